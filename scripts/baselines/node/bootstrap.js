'use strict';
// A minimal Lambda Runtime API loop (what the managed Node runtime does, without its own
// start-up): load the handler module (init), then fetch next -> call handler -> post the
// response, forever. node:http with one kept-alive socket, as the Rust runtime keeps one.
const http = require('node:http');
const { handler } = require('./handler');

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime';

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    const req = http.request({ host, port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function loop() {
  for (;;) {
    const next = await call('GET', `${base}/invocation/next`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    let result;
    try {
      result = await handler(JSON.parse(next.body));
    } catch (e) {
      await call('POST', `${base}/invocation/${id}/error`,
        JSON.stringify({ errorType: e.name, errorMessage: String(e.message) }));
      continue;
    }
    await call('POST', `${base}/invocation/${id}/response`, JSON.stringify(result));
  }
}

loop().catch((e) => {
  console.error(e);
  process.exit(1);
});
