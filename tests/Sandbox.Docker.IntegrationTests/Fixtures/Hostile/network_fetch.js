// Attack: HTTP from Node (to loopback only). Socket creation is denied, so the request errors.
// @expect ok
// @stdout BLOCKED
const net = require('net');
try {
  const s = net.connect({ host: '127.0.0.1', port: 80 });
  s.on('connect', () => { console.log('CONNECTED'); process.exit(0); });
  s.on('error', () => { console.log('BLOCKED'); process.exit(0); });
} catch (e) { console.log('BLOCKED'); }
