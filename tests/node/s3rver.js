// An S3 store that checks SigV4 signatures and expiry, for the tests (credentials S3RVER/S3RVER).
// Usage: node s3rver.js FD DIRECTORY BUCKET, where FD is a socket listening on 127.0.0.1 that
// the test bound and handed down; prints "ready" once it accepts requests.
'use strict';

const S3rver = require('@20minutes/s3rver');

const [fd, directory, bucket] = process.argv.slice(2);
if (!fd || !directory || !bucket) {
  console.error('usage: node s3rver.js FD DIRECTORY BUCKET');
  process.exit(2);
}

const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: bucket }] });
// run() would bind a port of its own; the same steps on the inherited socket instead.
s3rver
  .configureBuckets()
  .then(() => s3rver.listen({ fd: Number(fd) }))
  .then(() => console.log('ready'))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });

// The test fixture stops us with SIGTERM; exit at once rather than wait for open sockets.
process.on('SIGTERM', () => process.exit(0));
