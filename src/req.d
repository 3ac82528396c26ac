src/req.o: src/req.c src/req.h src/error.h src/util.h src/version.h
src/req.h:
src/error.h:
src/util.h:
src/version.h:
