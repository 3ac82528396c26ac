/*
 * What goes into an image beside its own objects: the libraries it links
 * and the manifest written next to it (NAME.TARGET.manifest.json).
 */
#ifndef STITCH_IMAGE_H
#define STITCH_IMAGE_H

#include <stddef.h>

#include "link.h"
#include "project.h"

struct stitch_state;

/*
 * The pkg-config names p links for target t: per requirement, the
 * alternative st has installed, and the target's platform package.
 * *inputs_key (malloc'd) changes whenever an installed interface does.
 * Returns a malloc'd array of *n malloc'd names.
 */
char **stitch_image_libraries(struct stitch_state *st, const struct stitch_project *p,
                              const struct stitch_target *t, size_t *n, char **inputs_key);

/*
 * Write NAME.TARGET.manifest.json beside res->image: every installed
 * package's version, source, build and interface hashes and the hash of
 * its archives, and the image's SHA-256.  Rewritten only when it changes;
 * a manifest that cannot be written is not fatal (nothing is returned).
 */
void stitch_image_manifest(struct stitch_state *st, const struct stitch_project *p,
                           const struct stitch_target *t, const struct stitch_link_result *res);

#endif
