cmd/common.o: cmd/common.c cmd/cmd.h src/error.h src/index.h src/error.h \
 src/config.h src/util.h
cmd/cmd.h:
src/error.h:
src/index.h:
src/error.h:
src/config.h:
src/util.h:
