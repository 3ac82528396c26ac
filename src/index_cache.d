src/index_cache.o: src/index_cache.c src/index_flat.h src/error.h \
 src/index.h src/util.h
src/index_flat.h:
src/error.h:
src/index.h:
src/util.h:
