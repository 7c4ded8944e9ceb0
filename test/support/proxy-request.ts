// A request as the proxy's front end hands it to the VCL and the state machine (ProxyRequest in
// services/proxy/vcl.ts): GET https://www.example.test/hej from a lab client, any field replaced.
import type { ProxyRequest } from '../../services/proxy/vcl.js';

export const proxyRequest = (over: Partial<ProxyRequest> = {}): ProxyRequest => ({
  method: 'GET',
  host: 'www.example.test',
  url: '/hej',
  headers: {},
  clientIp: '127.45.1.10',
  tls: true,
  ...over,
});
