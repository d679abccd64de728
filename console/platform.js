// Platform admin views (seed 003): organizations, users, invitations.
import { api, q } from './api.js';
import { closeDialog, confirmDialog, date, field, form, h, openDialog, pager, select, toast } from './ui.js';

const clean = (v) => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== ''));
const table = (heads, rows) => h('table', {}, h('thead', {}, h('tr', {}, heads.map((t) => h('th', {}, t)))),
  h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: heads.length }, 'Nothing to show.'))));

function orgSelect(ctx, id, value, blank) {
  return select(id, 'org_id', [...(blank ? [['', blank]] : []), ...ctx.orgs.map((o) => [o.id, `${o.name} (${o.code})`])], value);
}

export async function orgs(root, ctx, { reload }) {
  const list = h('div', {});
  const cursors = [null];
  const load = async (cursor) => {
    const page = await api('GET', `/orgs${q({ limit: 100, cursor })}`);
    list.replaceChildren(table(['Name', 'Code', 'Description', 'Tier', 'Members', 'Actions'], page.items.map((o) => h('tr', {},
      h('td', {}, o.name), h('td', {}, o.code), h('td', {}, o.description || ''), h('td', {}, o.tier), h('td', {}, String(o.member_count ?? '')),
      h('td', {}, h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => edit(o) }, `Edit ${o.code}`),
        h('button', { type: 'button', class: 'danger', onclick: () => del(o) }, `Delete ${o.code}`)))))),
    pager(cursors, page.next_cursor, load));
  };
  const edit = (o) => openDialog(o ? `Edit ${o.name}` : 'New Organization', form([
    field('Name', 'name', { value: o?.name || '', required: true }),
    field('Code', 'code', { value: o?.code || '', required: true }),
    field('Description', 'description', { value: o?.description || '' }),
    field('Tier', 'tier', { value: o?.tier || '' }),
    o ? null : field('Owner email (optional: sends an owner invitation)', 'owner_email', { type: 'email' }),
  ], o ? 'Save' : 'Create', async (v) => {
    if (o) await api('PATCH', `/orgs/${o.id}`, clean(v));
    else await api('POST', '/orgs', clean(v));
    closeDialog();
    toast(o ? `${v.name} saved.` : `${v.name} created.`);
    await reload();
  }));
  async function del(o) {
    const input = h('input', { id: 'confirm-code', autocomplete: 'off' });
    const extra = h('div', { class: 'field' }, h('label', { for: 'confirm-code' }, `Type ${o.code} to confirm`), input);
    if (!(await confirmDialog(`Delete ${o.name}`, 'Its members are detached and its invitations end. This cannot be undone.', 'Delete', extra))) return;
    try {
      await api('DELETE', `/orgs/${o.id}${q({ confirm: input.value })}`);
      toast(`${o.name} was deleted.`);
      await reload();
    } catch (e) {
      toast(e.message, true);
    }
  }
  root.append(h('h1', {}, 'Organizations'),
    h('div', { class: 'tools' }, h('button', { type: 'button', class: 'primary', onclick: () => edit(null) }, 'New Organization')), list);
  await load(null);
}

export async function users(root, ctx) {
  const state = { org: ctx.org?.id || '', admins: false, q: '', cursors: [null] };
  const orgSel = orgSelect(ctx, 'u-org', state.org);
  const adminsBox = h('input', { type: 'checkbox', id: 'u-admins' });
  const list = h('div', {});
  const load = async (cursor) => {
    const page = await api('GET', `/users${q(state.admins ? { platform_admins: 'true', cursor } : { org_id: state.org, q: state.q, cursor })}`);
    list.replaceChildren(table(['Name', 'Email', 'Role', 'Platform admin', 'Created', 'Actions'], page.items.map((u) => h('tr', { 'data-email': u.email },
      h('td', {}, u.name), h('td', {}, u.email), h('td', {}, u.role || ''), h('td', {}, u.platform_admin ? 'Yes' : 'No'), h('td', {}, date(u.created_at)),
      h('td', {}, h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => edit(u) }, `Edit ${u.email}`),
        h('button', { type: 'button', class: 'danger', onclick: () => del(u) }, `Delete ${u.email}`)))))),
    pager(state.cursors, page.next_cursor, load));
  };
  const reset = () => { state.cursors = [null]; load(null); };
  orgSel.addEventListener('change', () => { state.org = orgSel.value; reset(); });
  const search = h('input', { type: 'search', id: 'u-q', autocomplete: 'off', placeholder: 'Email or name' });
  let timer;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = search.value.trim(); reset(); }, 300);
  });
  adminsBox.addEventListener('change', () => { state.admins = adminsBox.checked; orgSel.disabled = search.disabled = adminsBox.checked; reset(); });
  const edit = (u) => openDialog(u ? `Edit ${u.email}` : 'New User', form([
    field('Email', 'email', { type: 'email', value: u?.email || '', required: true }),
    field('Name', 'name', { value: u?.name || '', required: true }),
    field(u ? 'Password (leave blank to keep it)' : 'Password', 'password', { type: 'password', autocomplete: 'new-password' }),
    field('Role', 'role', {}, (id) => select(id, 'role', [['', 'None'], ['member', 'Member'], ['admin', 'Admin']], u?.role || 'member')),
    u ? null : field('Organization', 'org_id', {}, (id) => orgSelect(ctx, id, state.org, 'None')),
    u ? null : h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'platform_admin', value: 'true' }), 'Global administrator'),
  ], u ? 'Save' : 'Create user', async (v) => {
    const body = clean(v);
    if (body.platform_admin) body.platform_admin = true;
    if (u) {
      // Only what changed: the same email or role sent back is still a change request.
      for (const k of ['email', 'name', 'role']) if (body[k] === (u[k] || '')) delete body[k];
      if (v.role === '' && !u.role) delete body.role;
      await api('PATCH', `/users/${u.id}`, body);
    } else await api('POST', '/users', body);
    closeDialog();
    toast(u ? `${v.email} saved.` : `${v.email} created.`);
    await load(state.cursors[state.cursors.length - 1]);
  }));
  async function del(u) {
    if (!(await confirmDialog('Delete user', `Delete the account of ${u.name} (${u.email})? Their membership and sessions end.`, 'Delete'))) return;
    try {
      await api('DELETE', `/users/${u.id}`);
      toast(`${u.email} was deleted.`);
      await load(null);
    } catch (e) {
      toast(e.message, true);
    }
  }
  root.append(h('h1', {}, 'Users'),
    h('div', { class: 'tools' },
      h('div', { class: 'field' }, h('label', { for: 'u-org' }, 'Organization'), orgSel),
      h('div', { class: 'field' }, h('label', { for: 'u-q' }, 'Search'), search),
      h('label', { class: 'check' }, adminsBox, 'Global administrators'),
      h('button', { type: 'button', class: 'primary', onclick: () => edit(null) }, 'New User')), list);
  await load(null);
}

export async function invitations(root, ctx) {
  const state = { org: ctx.org?.id || '', status: '', cursors: [null] };
  const orgSel = orgSelect(ctx, 'i-org', state.org);
  const statusSel = select('i-status', 'status', [['', 'All'], ['pending', 'Pending'], ['accepted', 'Accepted'], ['declined', 'Declined'], ['expired', 'Expired'], ['revoked', 'Revoked']], '');
  const list = h('div', {});
  const load = async (cursor) => {
    const page = await api('GET', `/orgs/${state.org}/invitations${q({ status: state.status, cursor })}`);
    list.replaceChildren(table(['Email', 'Role', 'Status', 'Delivery', 'Expires', 'Actions'], page.items.map((i) => h('tr', { 'data-email': i.email },
      h('td', {}, i.email), h('td', {}, i.role), h('td', {}, i.status), h('td', {}, i.email_delivery || ''), h('td', {}, date(i.expires_at)),
      h('td', {}, i.status === 'pending' ? h('button', { type: 'button', class: 'danger', onclick: () => del(i) }, `Delete invitation to ${i.email}`) : '')))),
    pager(state.cursors, page.next_cursor, load));
  };
  const reset = () => { state.cursors = [null]; load(null); };
  orgSel.addEventListener('change', () => { state.org = orgSel.value; reset(); });
  statusSel.addEventListener('change', () => { state.status = statusSel.value; reset(); });
  const send = () => openDialog('Send Invitation', form([
    field('Email', 'email', { type: 'email', required: true }),
    field('Role', 'role', {}, (id) => select(id, 'role', [['member', 'Member'], ['admin', 'Admin']], 'member')),
    field('Expires in seconds', 'expires_in_seconds', { type: 'number', min: 300, max: 2592000, placeholder: '604800' }),
  ], 'Send Invitation', async (v) => {
    const body = { emails: [v.email], role: v.role };
    if (v.expires_in_seconds) body.expires_in_seconds = Number(v.expires_in_seconds);
    const res = await api('POST', `/orgs/${state.org}/invitations`, body);
    const r = res.results[0];
    if (r.status === 'invalid') throw { message: 'The address was refused.', fields: [{ field: 'email', message: r.reason }] };
    closeDialog();
    toast(`Invitation to ${r.email}: ${r.status.replace('_', ' ')}.`);
    reset();
  }));
  async function del(i) {
    if (!(await confirmDialog('Delete invitation', `Revoke the invitation to ${i.email}?`, 'Delete'))) return;
    try {
      await api('DELETE', `/orgs/${state.org}/invitations/${i.id}`);
      toast(`The invitation to ${i.email} was revoked.`);
      reset();
    } catch (e) {
      toast(e.message, true);
    }
  }
  root.append(h('h1', {}, 'Invitations'),
    h('div', { class: 'tools' },
      h('div', { class: 'field' }, h('label', { for: 'i-org' }, 'Organization'), orgSel),
      h('div', { class: 'field' }, h('label', { for: 'i-status' }, 'Status'), statusSel),
      h('button', { type: 'button', class: 'primary', onclick: send }, 'Send Invitation')), list);
  if (state.org) await load(null);
}
