// Polls /healthz and shows the server's state; the console grows with the management API.
async function refresh() {
  const status = document.getElementById('status');
  try {
    const res = await fetch('/healthz', { cache: 'no-store' });
    const body = await res.json();
    status.textContent = res.ok ? 'healthy' : (body.message || 'unavailable');
    status.className = res.ok ? 'ok' : 'down';
    if (body.version) document.getElementById('version').textContent = 'v' + body.version;
    if (body.uptimeSeconds !== undefined) document.getElementById('uptime').textContent = body.uptimeSeconds + ' s';
  } catch (e) {
    status.textContent = 'unreachable';
    status.className = 'down';
  }
}
refresh();
setInterval(refresh, 5000);
