/*
 * libcurl and libarchive, loaded when first used.
 *
 * Both pull in dozens of shared libraries (TLS, Kerberos, LDAP, ICU, the
 * C++ runtime...), which cost a process about 10 ms to map and relocate.
 * Most stitch commands (a no-op build, the edit-rebuild loop) use neither,
 * so they are opened with dlopen() on the first call instead of at start.
 * Code calls them as usual: each name below is a macro for the function
 * loaded from the library, with the library's own prototype.
 *
 * The macros assume the library is loaded: every public function that
 * reaches one calls stitch_dl_load_curl or stitch_dl_load_archive first
 * and returns its error.
 */
#ifndef STITCH_DL_H
#define STITCH_DL_H

#define CURL_DISABLE_TYPECHECK 1
#include "error.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>

#define STITCH_CURL_FUNCTIONS(X)    \
	X(curl_easy_cleanup)        \
	X(curl_easy_getinfo)        \
	X(curl_easy_init)           \
	X(curl_easy_perform)        \
	X(curl_easy_reset)          \
	X(curl_easy_setopt)         \
	X(curl_easy_strerror)       \
	X(curl_easy_unescape)       \
	X(curl_free)                \
	X(curl_global_cleanup)      \
	X(curl_global_init)         \
	X(curl_multi_add_handle)    \
	X(curl_multi_cleanup)       \
	X(curl_multi_info_read)     \
	X(curl_multi_init)          \
	X(curl_multi_perform)       \
	X(curl_multi_poll)          \
	X(curl_multi_remove_handle) \
	X(curl_multi_setopt)        \
	X(curl_slist_append)        \
	X(curl_slist_free_all)

#define STITCH_ARCHIVE_FUNCTIONS(X)                \
	X(archive_entry_atime_is_set)              \
	X(archive_entry_copy_hardlink)             \
	X(archive_entry_copy_pathname)             \
	X(archive_entry_copy_symlink)              \
	X(archive_entry_ctime_is_set)              \
	X(archive_entry_filetype)                  \
	X(archive_entry_free)                      \
	X(archive_entry_gid)                       \
	X(archive_entry_gname)                     \
	X(archive_entry_hardlink)                  \
	X(archive_entry_mtime)                     \
	X(archive_entry_new)                       \
	X(archive_entry_pathname)                  \
	X(archive_entry_pathname_utf8)             \
	X(archive_entry_perm)                      \
	X(archive_entry_set_filetype)              \
	X(archive_entry_set_gid)                   \
	X(archive_entry_set_hardlink)              \
	X(archive_entry_set_mtime)                 \
	X(archive_entry_set_pathname)              \
	X(archive_entry_set_perm)                  \
	X(archive_entry_set_rdev)                  \
	X(archive_entry_set_size)                  \
	X(archive_entry_set_symlink)               \
	X(archive_entry_set_uid)                   \
	X(archive_entry_symlink)                   \
	X(archive_entry_symlink_utf8)              \
	X(archive_entry_uid)                       \
	X(archive_entry_uname)                     \
	X(archive_error_string)                    \
	X(archive_read_data)                       \
	X(archive_read_data_block)                 \
	X(archive_read_free)                       \
	X(archive_read_new)                        \
	X(archive_read_next_header)                \
	X(archive_read_open_fd)                    \
	X(archive_read_open_filename)              \
	X(archive_read_open_memory)                \
	X(archive_read_support_filter_all)         \
	X(archive_read_support_filter_bzip2)       \
	X(archive_read_support_filter_gzip)        \
	X(archive_read_support_filter_xz)          \
	X(archive_read_support_filter_zstd)        \
	X(archive_read_support_format_all)         \
	X(archive_read_support_format_raw)         \
	X(archive_read_support_format_tar)         \
	X(archive_read_support_format_zip)         \
	X(archive_write_add_filter)                \
	X(archive_write_add_filter_gzip)           \
	X(archive_write_add_filter_xz)             \
	X(archive_write_add_filter_zstd)           \
	X(archive_write_close)                     \
	X(archive_write_data)                      \
	X(archive_write_data_block)                \
	X(archive_write_disk_new)                  \
	X(archive_write_disk_set_options)          \
	X(archive_write_finish_entry)              \
	X(archive_write_free)                      \
	X(archive_write_header)                    \
	X(archive_write_new)                       \
	X(archive_write_open)                      \
	X(archive_write_open_filename)             \
	X(archive_write_set_filter_option)         \
	X(archive_write_set_format)                \
	X(archive_write_set_format_option)         \
	X(archive_write_set_format_pax_restricted) \
	X(archive_write_set_format_raw)

#define STITCH_DL_MEMBER(f) __typeof__(f) *f;
struct stitch_curl_api {
	STITCH_CURL_FUNCTIONS(STITCH_DL_MEMBER)
};
struct stitch_archive_api {
	STITCH_ARCHIVE_FUNCTIONS(STITCH_DL_MEMBER)
};
#undef STITCH_DL_MEMBER

/* The loaded functions; NULL until a load succeeded. */
extern const struct stitch_curl_api *stitch_curl_loaded;
extern const struct stitch_archive_api *stitch_archive_loaded;

/*
 * Load libcurl (libarchive) with every function above, once; later calls
 * return at once.  0, or STITCH_E_CONFIG when the library or one of its
 * functions cannot be loaded (a broken installation), naming which, with
 * dlerror's message as the cause.
 */
int stitch_dl_load_curl(struct stitch_err *err);
int stitch_dl_load_archive(struct stitch_err *err);

#define STITCH_CURL stitch_curl_loaded
#define STITCH_ARCHIVE stitch_archive_loaded

#ifndef STITCH_DL_IMPL
/* curl.h defines these as macros checking the argument count. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_easy_cleanup (STITCH_CURL->curl_easy_cleanup)
#define curl_easy_getinfo (STITCH_CURL->curl_easy_getinfo)
#define curl_easy_init (STITCH_CURL->curl_easy_init)
#define curl_easy_perform (STITCH_CURL->curl_easy_perform)
#define curl_easy_reset (STITCH_CURL->curl_easy_reset)
#define curl_easy_setopt (STITCH_CURL->curl_easy_setopt)
#define curl_easy_strerror (STITCH_CURL->curl_easy_strerror)
#define curl_easy_unescape (STITCH_CURL->curl_easy_unescape)
#define curl_free (STITCH_CURL->curl_free)
#define curl_global_cleanup (STITCH_CURL->curl_global_cleanup)
#define curl_global_init (STITCH_CURL->curl_global_init)
#define curl_multi_add_handle (STITCH_CURL->curl_multi_add_handle)
#define curl_multi_cleanup (STITCH_CURL->curl_multi_cleanup)
#define curl_multi_info_read (STITCH_CURL->curl_multi_info_read)
#define curl_multi_init (STITCH_CURL->curl_multi_init)
#define curl_multi_perform (STITCH_CURL->curl_multi_perform)
#define curl_multi_poll (STITCH_CURL->curl_multi_poll)
#define curl_multi_remove_handle (STITCH_CURL->curl_multi_remove_handle)
#define curl_multi_setopt (STITCH_CURL->curl_multi_setopt)
#define curl_slist_append (STITCH_CURL->curl_slist_append)
#define curl_slist_free_all (STITCH_CURL->curl_slist_free_all)
#define archive_entry_atime_is_set (STITCH_ARCHIVE->archive_entry_atime_is_set)
#define archive_entry_copy_hardlink (STITCH_ARCHIVE->archive_entry_copy_hardlink)
#define archive_entry_copy_pathname (STITCH_ARCHIVE->archive_entry_copy_pathname)
#define archive_entry_copy_symlink (STITCH_ARCHIVE->archive_entry_copy_symlink)
#define archive_entry_ctime_is_set (STITCH_ARCHIVE->archive_entry_ctime_is_set)
#define archive_entry_filetype (STITCH_ARCHIVE->archive_entry_filetype)
#define archive_entry_free (STITCH_ARCHIVE->archive_entry_free)
#define archive_entry_gid (STITCH_ARCHIVE->archive_entry_gid)
#define archive_entry_gname (STITCH_ARCHIVE->archive_entry_gname)
#define archive_entry_hardlink (STITCH_ARCHIVE->archive_entry_hardlink)
#define archive_entry_mtime (STITCH_ARCHIVE->archive_entry_mtime)
#define archive_entry_new (STITCH_ARCHIVE->archive_entry_new)
#define archive_entry_pathname (STITCH_ARCHIVE->archive_entry_pathname)
#define archive_entry_pathname_utf8 (STITCH_ARCHIVE->archive_entry_pathname_utf8)
#define archive_entry_perm (STITCH_ARCHIVE->archive_entry_perm)
#define archive_entry_set_filetype (STITCH_ARCHIVE->archive_entry_set_filetype)
#define archive_entry_set_gid (STITCH_ARCHIVE->archive_entry_set_gid)
#define archive_entry_set_hardlink (STITCH_ARCHIVE->archive_entry_set_hardlink)
#define archive_entry_set_mtime (STITCH_ARCHIVE->archive_entry_set_mtime)
#define archive_entry_set_pathname (STITCH_ARCHIVE->archive_entry_set_pathname)
#define archive_entry_set_perm (STITCH_ARCHIVE->archive_entry_set_perm)
#define archive_entry_set_rdev (STITCH_ARCHIVE->archive_entry_set_rdev)
#define archive_entry_set_size (STITCH_ARCHIVE->archive_entry_set_size)
#define archive_entry_set_symlink (STITCH_ARCHIVE->archive_entry_set_symlink)
#define archive_entry_set_uid (STITCH_ARCHIVE->archive_entry_set_uid)
#define archive_entry_symlink (STITCH_ARCHIVE->archive_entry_symlink)
#define archive_entry_symlink_utf8 (STITCH_ARCHIVE->archive_entry_symlink_utf8)
#define archive_entry_uid (STITCH_ARCHIVE->archive_entry_uid)
#define archive_entry_uname (STITCH_ARCHIVE->archive_entry_uname)
#define archive_error_string (STITCH_ARCHIVE->archive_error_string)
#define archive_read_data (STITCH_ARCHIVE->archive_read_data)
#define archive_read_data_block (STITCH_ARCHIVE->archive_read_data_block)
#define archive_read_free (STITCH_ARCHIVE->archive_read_free)
#define archive_read_new (STITCH_ARCHIVE->archive_read_new)
#define archive_read_next_header (STITCH_ARCHIVE->archive_read_next_header)
#define archive_read_open_fd (STITCH_ARCHIVE->archive_read_open_fd)
#define archive_read_open_filename (STITCH_ARCHIVE->archive_read_open_filename)
#define archive_read_open_memory (STITCH_ARCHIVE->archive_read_open_memory)
#define archive_read_support_filter_all (STITCH_ARCHIVE->archive_read_support_filter_all)
#define archive_read_support_filter_bzip2 (STITCH_ARCHIVE->archive_read_support_filter_bzip2)
#define archive_read_support_filter_gzip (STITCH_ARCHIVE->archive_read_support_filter_gzip)
#define archive_read_support_filter_xz (STITCH_ARCHIVE->archive_read_support_filter_xz)
#define archive_read_support_filter_zstd (STITCH_ARCHIVE->archive_read_support_filter_zstd)
#define archive_read_support_format_all (STITCH_ARCHIVE->archive_read_support_format_all)
#define archive_read_support_format_raw (STITCH_ARCHIVE->archive_read_support_format_raw)
#define archive_read_support_format_tar (STITCH_ARCHIVE->archive_read_support_format_tar)
#define archive_read_support_format_zip (STITCH_ARCHIVE->archive_read_support_format_zip)
#define archive_write_add_filter (STITCH_ARCHIVE->archive_write_add_filter)
#define archive_write_add_filter_gzip (STITCH_ARCHIVE->archive_write_add_filter_gzip)
#define archive_write_add_filter_xz (STITCH_ARCHIVE->archive_write_add_filter_xz)
#define archive_write_add_filter_zstd (STITCH_ARCHIVE->archive_write_add_filter_zstd)
#define archive_write_close (STITCH_ARCHIVE->archive_write_close)
#define archive_write_data (STITCH_ARCHIVE->archive_write_data)
#define archive_write_data_block (STITCH_ARCHIVE->archive_write_data_block)
#define archive_write_disk_new (STITCH_ARCHIVE->archive_write_disk_new)
#define archive_write_disk_set_options (STITCH_ARCHIVE->archive_write_disk_set_options)
#define archive_write_finish_entry (STITCH_ARCHIVE->archive_write_finish_entry)
#define archive_write_free (STITCH_ARCHIVE->archive_write_free)
#define archive_write_header (STITCH_ARCHIVE->archive_write_header)
#define archive_write_new (STITCH_ARCHIVE->archive_write_new)
#define archive_write_open (STITCH_ARCHIVE->archive_write_open)
#define archive_write_open_filename (STITCH_ARCHIVE->archive_write_open_filename)
#define archive_write_set_filter_option (STITCH_ARCHIVE->archive_write_set_filter_option)
#define archive_write_set_format (STITCH_ARCHIVE->archive_write_set_format)
#define archive_write_set_format_option (STITCH_ARCHIVE->archive_write_set_format_option)
#define archive_write_set_format_pax_restricted \
	(STITCH_ARCHIVE->archive_write_set_format_pax_restricted)
#define archive_write_set_format_raw (STITCH_ARCHIVE->archive_write_set_format_raw)
#endif

#endif
