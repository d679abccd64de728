// Platform admin views (seed 003): organizations, users, invitations.
import { api, q } from './api.js';
import { closeDialog, confirmDialog, date, field, form, h, openDialog, pager, select, toast, uid } from './ui.js';

const clean = (v) => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== ''));
const table = (heads, rows) => h('table', {}, h('thead', {}, h('tr', {}, heads.map((t) => h('th', {}, t)))),
  h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: heads.length }, 'Nothing to show.'))));

function orgSelect(ctx, id, value, blank) {
  return select(id, 'org_id', [...(blank ? [['', blank]] : []), ...ctx.orgs.map((o) => [o.id, `${o.name} (${o.code})`])], value);
}

// Tiers come from the deployment's TIERS, which the API does not list: offer those in use.
function tierList(ctx) {
  const id = uid('tiers');
  return [id, h('datalist', { id }, [...new Set(ctx.orgs.map((o) => o.tier))].map((t) => h('option', { value: t })))];
}

export async function orgs(root, ctx, { reload }) {
  const list = h('div', {});
  const cursors = [null];
  const load = async (cursor) => {
    const page = await api('GET', `/orgs${q({ limit: 100, cursor })}`);
    list.replaceChildren(table(['Name', 'Code', 'Description', 'Tier', 'Members', 'Actions'], page.items.map((o) => h('tr', { 'data-code': o.code },
      h('td', { class: 'wrap' }, o.name), h('td', { class: 'wrap' }, o.code), h('td', { class: 'wrap' }, o.description || ''), h('td', {}, o.tier), h('td', {}, String(o.member_count ?? '')),
      h('td', {}, h('div', { class: 'actions' },
        h('button', { type: 'button', 'aria-label': `Edit ${o.name} (${o.code})`, onclick: () => edit(o) }, 'Edit'),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${o.name} (${o.code})`, onclick: () => del(o) }, 'Delete')))))),
    pager(cursors, page.next_cursor, load));
  };
  const edit = (o) => {
    const [tiersId, tiers] = tierList(ctx);
    openDialog(o ? `Edit ${o.name}` : 'New Organization', form([
      field('Name', 'name', { value: o?.name || '', required: true, maxlength: 100 }),
      field('Code', 'code', { value: o?.code || '', required: true, maxlength: 32, autocomplete: 'off' }),
      field('Description', 'description', {}, (id) => h('textarea', { id, name: 'description', rows: 3, maxlength: 1000 }, o?.description || '')),
      field(o ? 'Tier' : 'Tier (blank: the first configured)', 'tier', { value: o?.tier || '', list: tiersId, autocomplete: 'off' }),
      tiers,
      o ? null : field('Owner email (optional: sends an owner invitation)', 'owner_email', { type: 'email' }),
    ], o ? 'Save' : 'Create', async (v) => {
      let saved;
      if (o) {
        // Only what changed (a description may be emptied).
        const body = {};
        for (const k of ['name', 'code', 'description', 'tier']) if (v[k].trim() !== (o[k] || '')) body[k] = v[k].trim();
        saved = Object.keys(body).length ? await api('PATCH', `/orgs/${o.id}`, body) : o;
      } else saved = await api('POST', '/orgs', clean(v));
      closeDialog();
      const owner = saved.owner_invitation ? ` ${v.owner_email} is invited to own it.` : '';
      toast(o ? `${saved.name} saved.` : `${saved.name} created.${owner}`);
      await reload();
    }));
  };
  async function del(o) {
    const input = h('input', { id: 'confirm-code', autocomplete: 'off' });
    const extra = h('div', { class: 'field' }, h('label', { for: 'confirm-code' }, `Type ${o.code} to confirm`), input);
    const confirmed = confirmDialog(`Delete ${o.name}`, 'Its members are detached and its invitations end. This cannot be undone.', 'Delete', extra);
    // Delete stays disabled until the code is typed.
    const go = document.querySelector('#dialog .danger-confirm');
    const check = () => { go.disabled = input.value.trim().toUpperCase() !== o.code; };
    input.addEventListener('input', check);
    check();
    if (!(await confirmed)) return;
    try {
      await api('DELETE', `/orgs/${o.id}${q({ confirm: input.value.trim() })}`);
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
      h('td', { class: 'wrap' }, u.name), h('td', { class: 'wrap' }, u.email), h('td', {}, u.role || ''), h('td', {}, u.platform_admin ? 'Yes' : 'No'), h('td', {}, date(u.created_at)),
      h('td', {}, h('div', { class: 'actions' },
        h('button', { type: 'button', 'aria-label': `Edit ${u.email}`, onclick: () => edit(u) }, 'Edit'),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${u.email}`, onclick: () => del(u) }, 'Delete')))))),
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
      reset();
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
      h('td', { class: 'wrap' }, i.email), h('td', {}, i.role), h('td', {}, i.status), h('td', {}, i.email_delivery || ''), h('td', {}, date(i.expires_at)),
      h('td', {}, i.status === 'pending' ? h('button', { type: 'button', class: 'danger', 'aria-label': `Delete the invitation to ${i.email}`, onclick: () => del(i) }, 'Delete') : '')))),
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
