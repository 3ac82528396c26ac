src/version.o: src/version.c src/version.h
src/version.h:
