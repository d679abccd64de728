// One organization: its settings, ownership transfer, deletion by code, and its audit log.
import { api, q } from './api.js';
import { date, field, form, h, pager, select, toast } from './ui.js';

async function allMembers(org) {
  const out = [];
  let cursor = null;
  do {
    const page = await api('GET', `/orgs/${org.id}/members${q({ limit: 100, cursor })}`);
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && out.length < 1000);
  return out;
}

export async function settings(root, ctx, { reload }) {
  const org = await api('GET', `/orgs/${ctx.org.id}`);
  const admin = ctx.user.platform_admin;
  const owner = admin || ctx.user.role === 'owner';
  const ro = admin ? {} : { readonly: true };
  const edit = form([
    field('Name', 'name', { value: org.name, required: true, maxlength: 100 }),
    field('Description', 'description', {}, (id) => h('textarea', { id, name: 'description', rows: 3, maxlength: 1000 }, org.description || '')),
    field('Code', 'code', { value: org.code, ...ro }),
    field('Tier', 'tier', { value: org.tier, ...ro }),
  ], 'Save changes', async (v) => {
    const body = { name: v.name, description: v.description };
    if (admin) Object.assign(body, { code: v.code, tier: v.tier });
    const saved = await api('PATCH', `/orgs/${org.id}`, body);
    Object.assign(ctx.org, saved);
    toast('Organization settings saved.');
  }, false);
  root.append(h('h1', {}, `${org.name}: settings`), h('section', { class: 'card', 'aria-labelledby': 'general-h' }, h('h2', { id: 'general-h' }, 'General'), edit));
  if (!owner) return;

  const candidates = (await allMembers(org)).filter((m) => m.role !== 'owner' && m.status === 'active');
  const transfer = form([
    h('p', {}, 'The new owner must already be a member; the current owner becomes an admin.'),
    field('New owner', 'user_id', {}, (id) => select(id, 'user_id', [['', 'Choose a member'], ...candidates.map((m) => [m.user_id, `${m.name} (${m.email})`])], '')),
  ], 'Transfer ownership', async ({ user_id }) => {
    if (!user_id) throw { message: 'Choose the new owner.', fields: [{ field: 'user_id', message: 'Choose a member.' }] };
    await api('POST', `/orgs/${org.id}/transfer-ownership`, { user_id });
    toast('Ownership transferred.');
    await reload();
  }, false);
  const del = form([
    h('p', {}, `Deleting ${org.name} detaches every member and ends every pending invitation. It cannot be undone.`),
    field(`Type the code ${org.code} to confirm`, 'confirm', { autocomplete: 'off', required: true }),
  ], 'Delete organization', async ({ confirm }) => {
    if (confirm.trim().toUpperCase() !== org.code) throw { message: 'The code does not match.', fields: [{ field: 'confirm', message: `Type ${org.code} exactly.` }] };
    await api('DELETE', `/orgs/${org.id}${q({ confirm })}`);
    toast(`${org.name} was deleted.`);
    location.hash = admin ? '#orgs' : '';
    await reload();
  }, false);
  root.append(
    h('section', { class: 'card', 'aria-labelledby': 'transfer-h' }, h('h2', { id: 'transfer-h' }, 'Transfer ownership'), transfer),
    h('section', { class: 'card', 'aria-labelledby': 'delete-h' }, h('h2', { id: 'delete-h' }, 'Delete organization'), del));
}

// An audit entry as a sentence, with names where the member list knows them.
function sentence(e, who) {
  const actor = e.actor ? who(e.actor) : 'The system';
  const b = e.before || {};
  const a = e.after || {};
  const each = Array.isArray(e.before) ? e.before : [];
  const people = (f) => each.map(f).join(', ');
  switch (e.action) {
    case 'member.role_changed':
      return each.length === 1
        ? `${actor} changed ${who(each[0].user_id)}'s role from ${each[0].role} to ${a.role}`
        : `${actor} changed the role of ${people((m) => `${who(m.user_id)} (from ${m.role})`)} to ${a.role}`;
    case 'member.removed':
      return each.length === 1 && each[0].user_id === e.actor ? `${actor} left the organization`
        : `${actor} removed ${people((m) => who(m.user_id, m.email))}`;
    case 'invitation.sent': return `${actor} invited ${e.target}${a.role ? ` as ${a.role}` : ''}`;
    case 'invitation.resent': return `${actor} sent the invitation to ${e.target} again`;
    case 'invitation.accepted': return `${who(a.user_id, e.target)} accepted the invitation and joined as ${a.role}`;
    case 'invitation.declined': return `${e.target} declined the invitation`;
    case 'invitation.revoked': return `${actor} revoked the invitation to ${e.target}`;
    case 'invitation.expired': return `The invitation to ${e.target} expired`;
    case 'org.created': return `${actor} created the organization`;
    case 'org.updated': return `${actor} updated the organization's settings`;
    case 'org.deleted': return `${actor} deleted the organization`;
    case 'org.ownership_transferred': return `${actor} made ${who(a.owner_id)} the owner`;
    case 'user.created': return `${actor} created the account of ${who(e.target, a.email)}`;
    case 'user.updated': return `${actor} updated the account of ${who(e.target, b.email)}`;
    case 'user.deleted': return `${actor} deleted the account of ${who(e.target, b.email)}`;
    case 'user.email_changed': return `${who(e.target)} changed their email from ${b.email} to ${a.email}`;
    default: return `${actor}: ${e.action} (${e.target})`;
  }
}

export async function audit(root, ctx) {
  const org = ctx.org;
  const names = new Map((await allMembers(org)).map((m) => [m.user_id, m.name]));
  names.set(ctx.user.id, ctx.user.name);
  const who = (id, fallback) => names.get(id) || fallback || 'someone outside the organization';
  const list = h('div', {});
  const cursors = [null];
  const load = async (cursor) => {
    const page = await api('GET', `/orgs/${org.id}/audit${q({ limit: 25, cursor })}`);
    list.replaceChildren(h('ol', { class: 'audit' }, page.items.map((e) => h('li', {}, h('time', { datetime: e.at }, date(e.at)), ' — ', sentence(e, who)))),
      pager(cursors, page.next_cursor, load));
  };
  root.append(h('h1', {}, `Audit log of ${org.name}`), h('p', { class: 'muted' }, 'Newest first.'), list);
  await load(null);
}
