// Cloud Run entry point: `npm start`. Cloud Run sets PORT.
import http from 'node:http';
import { createApp } from './app.mjs';

const app = await createApp();
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  void app.push(req, res);
});
const port = Number(process.env.PORT ?? 8080);
server.listen(port, () => console.log(JSON.stringify({ severity: 'INFO', message: `backfill worker listening on :${port}` })));

// Cloud Run sends SIGTERM before stopping an instance: finish what runs, then exit.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
});
