src/config.o: src/config.c src/config.h src/error.h src/util.h \
 src/version.h
src/config.h:
src/error.h:
src/util.h:
src/version.h:
