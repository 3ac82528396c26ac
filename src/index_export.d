src/index_export.o: src/index_export.c src/index.h src/error.h src/util.h
src/index.h:
src/error.h:
src/util.h:
