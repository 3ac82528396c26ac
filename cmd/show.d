cmd/show.o: cmd/show.c cmd/cmd.h src/error.h src/index.h src/error.h \
 src/util.h
cmd/cmd.h:
src/error.h:
src/index.h:
src/error.h:
src/util.h:
