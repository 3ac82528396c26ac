src/index.o: src/index.c src/index.h src/error.h src/index_flat.h \
 src/util.h src/version.h
src/index.h:
src/error.h:
src/index_flat.h:
src/util.h:
src/version.h:
