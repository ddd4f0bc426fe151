// oauth_provider.mjs: a local stand-in for Google's OAuth token endpoint and OpenID userinfo endpoint,
// speaking the same HTTP protocol (RFC 6749 §4.1.3 form POST, Bearer userinfo), for the API tests.
// Codes are registered by the test with the profile they stand for; each code works once.
import http from 'node:http';

export async function startProvider({ clientId, clientSecret }) {
  const codes = new Map(), tokens = new Map(), calls = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const send = (status, obj) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
      calls.push({ method: req.method, url: req.url, body, headers: req.headers });
      if (req.method === 'POST' && req.url === '/token') {
        const f = new URLSearchParams(body);
        const entry = codes.get(f.get('code'));
        if (f.get('grant_type') !== 'authorization_code' || f.get('client_id') !== clientId || f.get('client_secret') !== clientSecret)
          return send(401, { error: 'invalid_client' });
        if (!entry || entry.redirectUri !== f.get('redirect_uri')) return send(400, { error: 'invalid_grant' });
        codes.delete(f.get('code'));
        const token = 'at-' + Math.random().toString(36).slice(2);
        tokens.set(token, entry.profile);
        return send(200, { access_token: token, token_type: 'Bearer', expires_in: 3599, scope: 'openid email profile' });
      }
      if (req.method === 'GET' && req.url === '/userinfo') {
        const profile = tokens.get((req.headers.authorization || '').replace(/^Bearer /, ''));
        return profile ? send(200, profile) : send(401, { error: 'invalid_token' });
      }
      send(404, { error: 'not_found' });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url, calls,
    issueCode(profile, redirectUri) { const code = 'code-' + Math.random().toString(36).slice(2); codes.set(code, { profile, redirectUri }); return code; },
    stop: () => new Promise((r) => server.close(r)),
  };
}
