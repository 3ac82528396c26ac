/*
 * Unpacking source archives safely, and packing source trees
 * deterministically.  Both are built on libarchive.
 *
 * Safety model of unpacking: the archive is read twice.  The first pass
 * reads every header and every byte of data (so corruption is found before
 * anything is written) and checks the whole entry list at once; only when
 * it passes is the target created and the second pass writes, checking that
 * it meets exactly the entries the first pass approved.
 */
#ifndef STITCH_ARCHIVE_H
#define STITCH_ARCHIVE_H

#include "error.h"

/*
 * By default, refuse archives that expand to more than this (bytes of file
 * data); stitch_archive_set_max_bytes changes it for the process.
 */
#define STITCH_ARCHIVE_MAX_BYTES (8ULL << 30)
/* Refuse archives with more entries than this. */
#define STITCH_ARCHIVE_MAX_ENTRIES 1000000

/*
 * Unpack the archive at path into dest_dir.
 *
 * Formats, detected by content: tar (ustar, pax, GNU) compressed with gzip,
 * xz, zstd, bzip2 or not at all; and zip.  dest_dir must not exist (it is
 * created, with its missing parents) or be an empty directory.
 *
 * When every entry lies under one top-level directory, that directory is
 * stripped: "tcp-1.1.0/src/tcp.c" lands in dest_dir/src/tcp.c.
 *
 * Refused before anything is written, with STITCH_E_ARCHIVE and a message
 * naming the archive and the entry, e.g.
 *   cannot unpack 'tcp-1.1.0.tar.gz': entry '../../etc/passwd' would land outside the target
 * - absolute paths and paths with '..' components;
 * - symlinks whose target is absolute or resolves outside dest_dir, judged
 *   by resolving it through the archive's other symlinks as the kernel
 *   would, and lexically through names that do not exist yet;
 * - entries written through a symlink of the archive ("link/x" after
 *   "link -> sub"), and paths that appear twice with different types or
 *   under a non-directory entry;
 * - hard links to a path that is not an earlier regular file of the archive;
 * - character and block devices, fifos, sockets and unknown types;
 * - archives with no entries, or larger than the limits above (the message
 *   names the entry that crossed the limit);
 * - archives whose file data does not fit in the free space of dest_dir's
 *   filesystem (statvfs), before anything is written and again each MiB
 *   while writing: the partial tree is removed as for any error.
 *
 * Modes: setuid, setgid and sticky bits are dropped and the rest is masked
 * as umask 022 would (0755 / 0644); the owner always keeps read and write
 * (and search on directories) so the tree can be built in and removed.
 * The process umask does not matter.  Modification times are kept; owners
 * are not restored.
 *
 * Errors: STITCH_E_USAGE (bad arguments), STITCH_E_IO (the archive cannot be
 * opened, dest_dir cannot be created or written), STITCH_E_EXISTS (dest_dir
 * is not an empty directory), STITCH_E_ARCHIVE (unreadable, corrupt or
 * unsafe archive).  On any error dest_dir is left as it was: absent if this
 * call created it, empty if it was an empty directory.
 */
int stitch_archive_unpack(const char *path, const char *dest_dir, struct stitch_err *err);

/*
 * Set the unpack limit (bytes of file data of one archive) for the rest of
 * the process (the root's limits.unpack_bytes); 0 restores the default.
 */
void stitch_archive_set_max_bytes(unsigned long long max);

/*
 * Pack the directory src_dir deterministically into out_path (.tar.gz), and
 * fill sha256_out with the lowercase hex SHA-256 of the archive.
 *
 * Every entry lies under one top-level directory named top (for example
 * "tcp-1.1.0"; no '/', not "." or "..").  Entries are sorted by path in
 * byte order; owner and group are 0 with empty names; every mtime is mtime
 * (for example SOURCE_DATE_EPOCH, or 0); modes are 0755 for directories and
 * for files with any execute bit, 0644 for other files; the format is
 * pax-restricted ustar (extended headers only for long or non-ASCII names,
 * never atime or ctime); gzip carries neither a timestamp nor a file name.
 * Files with several hard links are stored as separate files.  So the same
 * tree gives byte-identical archives whatever its mtimes, owners, creation
 * order or the process umask.
 *
 * Skipped: VCS metadata (.git, .hg, .svn, .bzr, _darcs, CVS) at any depth,
 * and out_path itself and its temporary file when they lie inside src_dir.
 * Symlinks are stored as symlinks; absolute ones, and ones that unpacking
 * would refuse, are refused with STITCH_E_ARCHIVE, as are fifos, sockets
 * and devices.
 *
 * The archive is written to a temporary file next to out_path and renamed
 * over it, so out_path is either the old file or the complete new one.
 * Errors: STITCH_E_USAGE (bad top), STITCH_E_NOTFOUND (src_dir missing),
 * STITCH_E_IO (reading the tree or writing out_path failed),
 * STITCH_E_ARCHIVE (an entry that cannot be packed).
 */
int stitch_archive_pack(const char *src_dir, const char *top, long long mtime, const char *out_path,
                        char sha256_out[65], struct stitch_err *err);

#endif
