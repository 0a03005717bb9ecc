// An S3 store that checks SigV4 signatures and expiry, for the tests (credentials S3RVER/S3RVER).
// Usage: node s3rver.js PORT DIRECTORY BUCKET — prints "ready" once it accepts requests.
'use strict';

const S3rver = require('@20minutes/s3rver');

const [port, directory, bucket] = process.argv.slice(2);
if (!port || !directory || !bucket) {
  console.error('usage: node s3rver.js PORT DIRECTORY BUCKET');
  process.exit(2);
}

new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
})
  .run()
  .then(() => console.log('ready'))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });

// The test fixture stops us with SIGTERM; exit at once rather than wait for open sockets.
process.on('SIGTERM', () => process.exit(0));
