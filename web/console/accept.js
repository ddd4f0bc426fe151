// accept.js: the page an invitation's link opens (/console/accept-invitation?token=inv_…): the invitee
// gives a name, accepts (POST /admin/v1/invitations/accept, no credential), gets a token of their own
// (shown once, for the CLI) and is signed in to the console with it.
import { h, shownOnce } from './ui.js';
import { signIn } from './api.js';

const token = new URLSearchParams(location.search).get('token') || '';
const app = document.getElementById('app');
const err = h('p.error');
const name = h('input#name', { type: 'text', name: 'name', autocomplete: 'name', placeholder: 'Your name' });
const f = h('form.signin-form#accept', h('label', h('span', 'Your name'), name), h('button.primary', { type: 'submit' }, 'Accept invitation'), err);
f.addEventListener('submit', async (e) => {
  e.preventDefault();
  err.textContent = '';
  try {
    const res = await fetch('/admin/v1/invitations/accept', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token, name: name.value.trim() || undefined }) });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error((body && body.error && body.error.message) || 'HTTP ' + res.status);
    await signIn(body.token);
    f.replaceWith(h('div', h('p', `Welcome, ${body.member.name || body.member.email}: you joined as ${body.member.role}.`),
      shownOnce('Your access token (for the CLI: basalt --token …)', body.token),
      h('p', h('a.button.primary#continue', { href: '/console/' }, 'Continue to the console'))));
  } catch (x) { err.textContent = x.message; }
});
app.replaceChildren(h('div.signin', h('div.card', h('h1', 'Join an organization'),
  token ? f : h('p.error', 'This link has no invitation token. Ask for a new invitation.'))));
