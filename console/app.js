// The console's shell: sign-in, the session across reloads, the views by role.
import { api, resume, signIn, signOut } from './api.js';
import { field, form, h } from './ui.js';
import { members } from './members.js';
import { audit, settings } from './org.js';
import { invitations, orgs, users } from './platform.js';

// boot.js reports a console that never started; this one has.
document.body.dataset.started = '1';
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const ctx = { user: null, org: null, orgs: [] };

const views = {
  members: ['Members', members],
  settings: ['Organization', settings],
  audit: ['Audit log', audit],
  orgs: ['Organizations', orgs, true],
  users: ['Users', users, true],
  invitations: ['Invitations', invitations, true],
};

function show(...nodes) {
  main.replaceChildren(...nodes.filter(Boolean));
}

function signInView(message) {
  nav.replaceChildren();
  document.getElementById('who').textContent = '';
  document.getElementById('signout').hidden = true;
  const f = form([
    field('Email', 'email', { type: 'email', autocomplete: 'username', required: true }),
    field('Password', 'password', { type: 'password', autocomplete: 'current-password', required: true }),
  ], 'Sign in', async ({ email, password }) => {
    await signIn(email, password);
    await start();
  }, false);
  show(h('div', { class: 'signin' }, h('h1', {}, 'Sign in to Roster'), message ? h('p', { role: 'alert' }, message) : null, f));
  f.querySelector('input').focus();
}

async function start() {
  ctx.user = await api('GET', '/me');
  const u = ctx.user;
  document.getElementById('who').textContent = `${u.name} (${u.email})`;
  document.getElementById('signout').hidden = false;
  ctx.org = u.org_id ? await api('GET', `/orgs/${u.org_id}`).catch(() => null) : null;
  if (!u.platform_admin && !['owner', 'admin'].includes(u.role)) {
    nav.replaceChildren();
    show(h('h1', {}, 'This console is for administrators'),
      h('p', {}, ctx.org ? `You are a member of ${ctx.org.name}. Ask one of its administrators for any change.`
        : 'You are not a member of any organization.'),
      h('p', { class: 'muted' }, 'Use the Sign out button above when you are done.'));
    return;
  }
  if (u.platform_admin) {
    const page = await api('GET', '/orgs?limit=100');
    ctx.orgs = page.items;
    if (!ctx.org) ctx.org = ctx.orgs[0] || null;
  }
  route();
}

// The organization the org views act on: a platform admin picks it.
function orgPicker() {
  if (!ctx.user.platform_admin || !ctx.orgs.length) return null;
  const s = h('select', { id: 'org-pick', onchange: () => { ctx.org = ctx.orgs.find((o) => o.id === s.value); route(); } },
    ctx.orgs.map((o) => h('option', { value: o.id, selected: ctx.org && o.id === ctx.org.id }, `${o.name} (${o.code})`)));
  return h('div', { class: 'tools' }, h('label', { for: 'org-pick' }, 'Organization'), s);
}

function route() {
  if (!ctx.user) return;
  const admin = ctx.user.platform_admin;
  const names = Object.keys(views).filter((k) => admin || !views[k][2]);
  let name = location.hash.slice(1);
  if (!names.includes(name)) name = admin ? 'orgs' : 'members';
  nav.replaceChildren(...names.map((k) => h('a', { href: `#${k}`, 'aria-current': k === name ? 'page' : false }, views[k][0])));
  document.title = `${views[name][0]} · Roster console`;
  const holder = h('div', {});
  const orgView = !views[name][2];
  show(orgView ? orgPicker() : null, holder);
  if (orgView && !ctx.org) {
    holder.append(h('p', {}, 'No organization yet.'));
    return;
  }
  views[name][1](holder, ctx, { reload: start }).catch((e) => holder.append(h('p', { class: 'error', role: 'alert' }, e.message)));
}

window.addEventListener('hashchange', route);
document.getElementById('signout').addEventListener('click', async () => {
  await signOut().catch(() => {});
  ctx.user = null;
  location.hash = '';
  signInView('You have signed out.');
});

(async () => {
  if (await resume()) {
    try {
      await start();
      return;
    } catch {
      // fall through to sign-in
    }
  }
  signInView();
})();
