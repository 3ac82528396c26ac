src/index_json.o: src/index_json.c src/index_flat.h src/error.h \
 src/index.h src/util.h src/req.h src/version.h
src/index_flat.h:
src/error.h:
src/index.h:
src/util.h:
src/req.h:
src/version.h:
