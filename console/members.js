// Members and pending invitations of one organization: filters, paging, the invite modal,
// row actions and bulk actions (seeds 001, 002).
import { api, q } from './api.js';
import { closeDialog, confirmDialog, date, field, form, h, openDialog, pager, select, toast, uid } from './ui.js';

const ROLES = [['', 'All roles'], ['owner', 'Owner'], ['admin', 'Admin'], ['member', 'Member']];
const STATUSES = [['', 'All'], ['active', 'Active'], ['pending', 'Pending'], ['expired', 'Expired']];
const label = (p) => (p.name ? `${p.name} (${p.email})` : p.email);

// One entry per row, whichever list it came from.
function rowOf(e) {
  if (e.status === 'active') return { kind: 'member', id: e.user_id, name: e.name, email: e.email, role: e.role, status: 'active', when: `Joined ${date(e.joined_at)}` };
  const expired = e.status === 'expired' || new Date(e.expires_at) < new Date();
  const status = e.email_delivery === 'failed' ? 'delivery failed' : expired ? 'expired' : e.status;
  return { kind: 'invitation', id: e.invitation_id || e.id, name: '', email: e.email, role: e.role, status, when: `${expired ? 'Expired' : 'Expires'} ${date(e.expires_at)}` };
}

export async function members(root, ctx) {
  const org = ctx.org;
  const me = ctx.user;
  const state = { role: '', status: '', q: '', cursors: [null] };
  const rows = new Map();
  const selected = new Set();
  const roleSel = select('f-role', 'role', ROLES, '');
  const statusSel = select('f-status', 'status', STATUSES, '');
  const table = h('div', { id: 'member-table' });
  const bulkSel = select('bulk-action', 'bulk', [['', 'Choose an action'], ['admin', 'Make admin'], ['member', 'Make member'], ['remove', 'Remove from organization']], '');
  const count = h('span', { class: 'muted', id: 'selected-count' }, 'None selected');

  const load = async (cursor) => {
    const common = { limit: 20, cursor };
    let page;
    if (state.status === 'pending' || state.status === 'expired') {
      page = await api('GET', `/orgs/${org.id}/invitations${q({ ...common, status: state.status })}`);
      const term = state.q.toLowerCase();
      page.items = page.items.filter((i) => (!state.role || i.role === state.role) && i.email.includes(term));
    } else {
      // A search finds members only (the API's rule); pending ones are a status away.
      const pending = state.status === 'active' || state.q ? '' : 'true';
      page = await api('GET', `/orgs/${org.id}/members${q({ ...common, role: state.role, q: state.q, include_pending: pending })}`);
    }
    rows.clear();
    selected.clear();
    count.textContent = 'None selected';
    const body = page.items.map(rowOf).map((r) => {
      rows.set(r.id, r);
      return tr(r);
    });
    table.replaceChildren(
      h('table', {},
        h('caption', { class: 'muted' }, `Members and invitations of ${org.name}`),
        h('thead', {}, h('tr', {}, h('th', {}, h('span', { class: 'muted' }, 'Select')), h('th', {}, 'Name'), h('th', {}, 'Email'), h('th', {}, 'Role'), h('th', {}, 'Status'), h('th', {}, 'Joined or expires'), h('th', {}, 'Actions'))),
        h('tbody', {}, body.length ? body : h('tr', {}, h('td', { colspan: 7 }, 'Nobody matches these filters.')))),
      pager(state.cursors, page.next_cursor, load));
    // For the browser test's figure: navigation to the list drawn.
    if (!performance.getEntriesByName('members-drawn').length) performance.mark('members-drawn');
  };
  const reload = () => load(state.cursors[state.cursors.length - 1]);

  function tr(r) {
    const box = r.kind === 'member'
      ? h('input', { type: 'checkbox', 'aria-label': `Select ${label(r)}`, onchange: (ev) => {
        if (ev.target.checked) selected.add(r.id); else selected.delete(r.id);
        count.textContent = selected.size ? `${selected.size} selected` : 'None selected';
      } })
      : '';
    let actions;
    if (r.kind === 'member') {
      const editable = r.role !== 'owner' && r.id !== me.id;
      actions = editable ? [
        h('button', { type: 'button', onclick: () => changeRole(r) }, 'Change role'),
        h('button', { type: 'button', class: 'danger', onclick: () => remove(r) }, 'Remove'),
      ] : [h('span', { class: 'muted' }, r.role === 'owner' ? 'Owner' : 'You')];
    } else {
      actions = [
        h('button', { type: 'button', onclick: () => resend(r) }, 'Resend'),
        h('button', { type: 'button', class: 'danger', onclick: () => revoke(r) }, 'Revoke'),
      ];
    }
    return h('tr', { 'data-email': r.email },
      h('td', {}, box), h('td', { class: 'wrap' }, r.name || h('span', { class: 'muted' }, '—')), h('td', { class: 'wrap' }, r.email), h('td', {}, r.role || ''),
      h('td', {}, h('span', { class: `badge ${r.status.split(' ').pop()}` }, r.status)), h('td', {}, r.when),
      h('td', {}, h('div', { class: 'actions' }, actions)));
  }

  async function act(work, done) {
    try {
      await work();
      await reload();
      toast(done);
    } catch (e) {
      toast(e.message, true);
    }
  }

  function changeRole(r) {
    const f = form([
      h('p', {}, `Choose a new role for ${label(r)}.`),
      field('Role', 'role', {}, (id) => select(id, 'role', [['admin', 'Admin'], ['member', 'Member']], r.role === 'admin' ? 'member' : 'admin')),
    ], 'Change role', async ({ role }) => {
      await api('PATCH', `/orgs/${org.id}/members/${r.id}`, { role });
      closeDialog();
      await reload();
      toast(`${label(r)} is now ${role === 'admin' ? 'an admin' : 'a member'}.`);
    });
    openDialog('Change role', f);
  }

  async function remove(r) {
    if (await confirmDialog('Remove member', `Remove ${label(r)} from ${org.name}? Their account stays and they can be invited again.`, 'Remove')) {
      await act(() => api('DELETE', `/orgs/${org.id}/members/${r.id}`), `${label(r)} was removed.`);
    }
  }

  const resend = (r) => act(() => api('POST', `/orgs/${org.id}/invitations/${r.id}/resend`), `The invitation to ${r.email} was sent again.`);

  async function revoke(r) {
    if (await confirmDialog('Revoke invitation', `Revoke the invitation to ${r.email}? Its link stops working.`, 'Revoke')) {
      await act(() => api('DELETE', `/orgs/${org.id}/invitations/${r.id}`), `The invitation to ${r.email} was revoked.`);
    }
  }

  async function bulk() {
    const action = bulkSel.value;
    const people = [...selected].map((id) => rows.get(id));
    if (!action || !people.length) {
      toast(!people.length ? 'Select at least one member first.' : 'Choose an action first.', true);
      return;
    }
    const what = action === 'remove' ? 'Remove' : `Make ${action}`;
    const list = h('ul', {}, people.map((p) => h('li', {}, label(p))));
    if (!(await confirmDialog(`${what}: ${people.length} selected`, `${what} for these ${people.length} people? All change or none does.`, what, list))) return;
    const user_ids = people.map((p) => p.id);
    try {
      if (action === 'remove') await api('POST', `/orgs/${org.id}/members/bulk-remove`, { user_ids });
      else await api('POST', `/orgs/${org.id}/members/bulk-role`, { user_ids, role: action });
      const n = `${people.length} ${people.length === 1 ? 'person' : 'people'}`;
      await reload();
      toast(action === 'remove' ? `Removed ${n}.` : `Role changed to ${action} for ${n}.`);
    } catch (e) {
      if (e.code !== 'bulk_refused') return toast(e.message, true);
      // Nothing changed: name every person who blocked it.
      const blockers = h('ul', { class: 'blockers' }, e.fields.map((f) => {
        const p = f.name ? { name: f.name, email: f.email } : rows.get(f.field);
        return h('li', {}, `${p ? label(p) : f.field}: ${f.message.replace(/^[a-z_]+: /, '')}`);
      }));
      openDialog('Nothing was changed', h('div', { role: 'alert' }, h('p', {}, 'The change was refused because of:'), blockers,
        h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: closeDialog }, 'OK'))));
    }
  }

  const search = h('input', { type: 'search', id: 'f-q', autocomplete: 'off', placeholder: 'Email or name' });
  let timer;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = search.value.trim(); state.cursors = [null]; load(null); }, 300);
  });
  roleSel.addEventListener('change', () => { state.role = roleSel.value; state.cursors = [null]; load(null); });
  statusSel.addEventListener('change', () => { state.status = statusSel.value; state.cursors = [null]; load(null); });
  root.append(
    h('h1', {}, `Members of ${org.name}`),
    h('div', { class: 'tools' },
      h('button', { type: 'button', class: 'primary', id: 'invite-open', onclick: () => invite(org, reload) }, 'Invite New User'),
      h('div', { class: 'field' }, h('label', { for: 'f-q' }, 'Search'), search),
      h('div', { class: 'field' }, h('label', { for: 'f-role' }, 'Role'), roleSel),
      h('div', { class: 'field' }, h('label', { for: 'f-status' }, 'Status'), statusSel),
      h('div', { class: 'field' }, h('label', { for: 'bulk-action' }, 'Bulk action'), bulkSel),
      h('button', { type: 'button', id: 'bulk-apply', onclick: bulk }, 'Apply to selected'), count),
    table);
  await load(null);
}

const INVITE_RESULT = {
  invited: 'invited',
  resent: 'invitation sent again',
  already_member: 'already a member',
  invalid: 'invalid',
};

// The API's limit per request (domain/requests.rs, MAX_EMAILS).
const MAX_EMAILS = 100;

// Why the API would refuse an address (its rules, domain/email.rs), or '' when it would not:
// the chip says so as soon as it is added; the API's answer after Send is still the word.
export function emailProblem(raw) {
  const e = raw.trim().toLowerCase();
  if (e.length > 254) return 'longer than 254 characters';
  const at = e.indexOf('@');
  if (at < 0) return 'it has no @';
  const local = e.slice(0, at);
  const labels = e.slice(at + 1).split('.');
  const localOk = local.length >= 1 && local.length <= 64 && !local.startsWith('.') && !local.endsWith('.')
    && !local.includes('..') && /^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+$/.test(local);
  const domainOk = labels.length >= 2 && labels.every((l) => /^[a-z0-9-]{1,63}$/.test(l) && !l.startsWith('-') && !l.endsWith('-'))
    && /^[a-z]{2,}$/.test(labels[labels.length - 1]);
  return localOk && domainOk ? '' : 'not a valid email address';
}

// The invite modal: addresses become chips on Enter, comma or paste; one role for all.
export function invite(org, after) {
  const emails = [];
  const chips = h('div', { class: 'chips-list', role: 'list', 'aria-label': 'Addresses to invite' });
  const inputId = uid('emails');
  const input = h('input', { id: inputId, type: 'email', autocomplete: 'off', placeholder: 'name@example.com', 'aria-describedby': `${inputId}-help` });
  const tally = h('span', { class: 'muted', id: 'chip-count', role: 'status' });
  const chip = (e) => {
    const problem = emailProblem(e);
    return h('span', { class: problem ? 'chip invalid' : 'chip', role: 'listitem' },
      h('span', {}, e, problem ? h('span', { class: 'chip-note' }, ` (${problem})`) : null),
      h('button', { type: 'button', 'aria-label': `Remove ${e}`, onclick: () => { emails.splice(emails.indexOf(e), 1); draw(); input.focus(); } }, '×'));
  };
  const draw = () => {
    chips.replaceChildren(...emails.map(chip));
    const bad = emails.filter(emailProblem).length;
    tally.textContent = emails.length
      ? `${emails.length} address${emails.length === 1 ? '' : 'es'}${bad ? `, ${bad} invalid` : ''}` : '';
    chips.scrollTop = chips.scrollHeight;
  };
  const add = (text) => {
    for (const e of text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean)) {
      if (!emails.some((x) => x.toLowerCase() === e.toLowerCase())) emails.push(e);
    }
    draw();
  };
  input.addEventListener('keydown', (ev) => {
    if ((ev.key === 'Enter' || ev.key === ',') && input.value.trim()) {
      ev.preventDefault();
      add(input.value);
      input.value = '';
    } else if (ev.key === 'Enter') ev.preventDefault();
    else if (ev.key === 'Backspace' && !input.value && emails.length) { emails.pop(); draw(); }
  });
  input.addEventListener('paste', (ev) => {
    ev.preventDefault();
    add(ev.clipboardData.getData('text'));
  });
  const results = h('ul', { class: 'results', 'aria-live': 'polite', id: 'invite-results' });
  const f = form([
    h('div', { class: 'field', 'data-field': 'emails' },
      h('label', { for: inputId }, 'Email addresses'),
      h('div', { class: 'chips' }, chips, input),
      h('span', { class: 'muted', id: `${inputId}-help` }, 'Press Enter or type a comma after each address; pasting a list works too.'),
      tally,
      h('span', { class: 'err' })),
    field('Role for everyone', 'role', {}, (id) => select(id, 'role', [['member', 'Member'], ['admin', 'Admin']], 'member')),
    field('Expires in', 'expires', {}, (id) => select(id, 'expires', [['', 'Default (7 days)'], ['86400', '1 day'], ['259200', '3 days'], ['2592000', '30 days']], '')),
    results,
  ], 'Send invitations', async ({ role, expires }, theForm) => {
    if (input.value.trim()) { add(input.value); input.value = ''; }
    if (!emails.length) throw { message: 'Add at least one email address.', fields: [{ field: 'emails', message: 'Type an address and press Enter.' }] };
    if (emails.length > MAX_EMAILS) throw { message: `At most ${MAX_EMAILS} addresses at once.`, fields: [{ field: 'emails', message: `Remove ${emails.length - MAX_EMAILS} of them.` }] };
    const body = { emails: [...emails], role };
    if (expires) body.expires_in_seconds = Number(expires);
    const res = await api('POST', `/orgs/${org.id}/invitations`, body);
    theForm.querySelector('.form-error')?.remove();
    results.replaceChildren(...res.results.map((r) => h('li', {}, `${r.email}: ${INVITE_RESULT[r.status] || r.status}${r.reason ? ` (${r.reason})` : ''}${r.email_delivery === 'failed' ? ', but the email could not be delivered (resend it later)' : ''}`)));
    emails.length = 0;
    draw();
    const sent = res.results.filter((r) => r.status === 'invited' || r.status === 'resent').length;
    toast(`${sent} invitation${sent === 1 ? '' : 's'} sent.`);
    after();
  });
  openDialog('Invite New User', f);
  input.focus();
}
