// libsnappy's C interface (Debian: libsnappy-dev): the raw blocks inside
// snappy-java's stream framing, which Apache ZooKeeper uses for snapshots
// written with snapshot.compression.method=snappy.
#include <snappy-c.h>
