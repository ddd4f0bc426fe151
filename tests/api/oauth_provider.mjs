// oauth_provider.mjs: a local stand-in for Google's and GitHub's OAuth endpoints (authorization page,
// token endpoint, OpenID userinfo / GitHub's /user), speaking the same HTTP protocol (RFC 6749 §4.1:
// the authorization page redirects with code and state; §4.1.3 form POST; RFC 7636 PKCE S256), for the
// API tests. Codes are registered by the test with the profile they stand for (issueCode), or issued by
// the authorization page for the profile the test "signs in" as (consent); each code works once.
import crypto from 'node:crypto';
import http from 'node:http';

export async function startProvider({ clientId, clientSecret }) {
  const codes = new Map(), tokens = new Map(), calls = [];
  let consenting = null; // the profile the next visit of the authorization page signs in as
  // a code issued with a PKCE challenge needs the matching verifier at the token endpoint
  const pkceOk = (entry, f) => !entry.challenge ||
    crypto.createHash('sha256').update(f.get('code_verifier') || '').digest('base64url') === entry.challenge;
  // the signing keys of ID tokens, published at /jwks like Google's certs endpoint
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-key-1';
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
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
        if (!entry || entry.redirectUri !== f.get('redirect_uri') || !pkceOk(entry, f)) return send(400, { error: 'invalid_grant' });
        codes.delete(f.get('code'));
        const token = 'at-' + Math.random().toString(36).slice(2);
        tokens.set(token, entry.profile);
        return send(200, { access_token: token, token_type: 'Bearer', expires_in: 3599, scope: 'openid email profile' });
      }
      if (req.method === 'GET' && req.url === '/jwks') return send(200, { keys: [jwk] });
      // the authorization pages (Google's and GitHub's paths): the user consents as `consenting`
      const page = new URL(req.url, 'http://stand-in');
      if (req.method === 'GET' && (page.pathname === '/o/oauth2/v2/auth' || page.pathname === '/login/oauth/authorize')) {
        const q = page.searchParams, back = q.get('redirect_uri');
        if (q.get('client_id') !== clientId || !back) return send(400, { error: 'invalid_request' });
        const to = new URL(back);
        if (!consenting) to.searchParams.set('error', 'access_denied');
        else {
          const code = 'code-' + Math.random().toString(36).slice(2);
          codes.set(code, { profile: consenting, redirectUri: back, challenge: q.get('code_challenge_method') === 'S256' ? q.get('code_challenge') : null });
          to.searchParams.set('code', code);
        }
        to.searchParams.set('state', q.get('state') || '');
        res.writeHead(302, { Location: to.toString() });
        return res.end();
      }
      // GitHub's flavour: the token endpoint answers 200 with {error} for a bad code
      if (req.method === 'POST' && req.url === '/login/oauth/access_token') {
        const f = new URLSearchParams(body);
        const entry = codes.get(f.get('code'));
        if (f.get('client_id') !== clientId || f.get('client_secret') !== clientSecret) return send(200, { error: 'incorrect_client_credentials' });
        if (!entry || entry.redirectUri !== f.get('redirect_uri') || !pkceOk(entry, f)) return send(200, { error: 'bad_verification_code' });
        codes.delete(f.get('code'));
        const token = 'gho_' + Math.random().toString(36).slice(2);
        tokens.set(token, entry.profile);
        return send(200, { access_token: token, token_type: 'bearer', scope: 'user:email' });
      }
      if (req.method === 'GET' && (req.url === '/user' || req.url === '/user/emails')) {
        if (!req.headers['user-agent']) return send(403, { message: 'User-Agent required' });
        const profile = tokens.get((req.headers.authorization || '').replace(/^Bearer /, ''));
        if (!profile) return send(401, { message: 'Bad credentials' });
        const { emails = [], ...user } = profile;
        return send(200, req.url === '/user' ? user : emails);
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
    // An RS256 ID token with these claims (defaults: Google's issuer, the client id, one hour), signed with
    // the published key, or with `key` (e.g. a stranger's) under `keyId`.
    idToken(claims, { key = privateKey, keyId = kid } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: keyId, typ: 'JWT' })).toString('base64url');
      const body = Buffer.from(JSON.stringify({ iss: 'https://accounts.google.com', aud: clientId, iat: now, exp: now + 3600, ...claims })).toString('base64url');
      const sig = crypto.sign('RSA-SHA256', Buffer.from(`${header}.${body}`), key).toString('base64url');
      return `${header}.${body}.${sig}`;
    },
    consent(profile) { consenting = profile; },
    issueCode(profile, redirectUri) { const code = 'code-' + Math.random().toString(36).slice(2); codes.set(code, { profile, redirectUri }); return code; },
    stop: () => new Promise((r) => server.close(r)),
  };
}
