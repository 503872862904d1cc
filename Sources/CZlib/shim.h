// zlib (Debian: zlib1g-dev): CRC-32 for tree digests, Adler-32 for log and
// snapshot checksums, gzip streams for compressed snapshots.
#include <zlib.h>
