// DOM helpers: elements are built, never parsed from strings, so no value is ever markup.
let ids = 0;
export const uid = (p) => `${p}-${++ids}`;

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

// At most three at once, newest last: a quick run of actions must not bury the table's
// buttons under a column of old messages.
export function toast(text, bad = false) {
  const t = h('div', { class: bad ? 'toast bad' : 'toast' }, text);
  const box = document.getElementById('toasts');
  box.append(t);
  while (box.children.length > 3) box.firstElementChild.remove();
  setTimeout(() => t.remove(), 6000);
}

export const date = (s) => (s ? new Date(s).toLocaleString() : '');

// A labelled field: input (or the element `make` builds) with its error slot.
export function field(label, name, attrs = {}, make) {
  const id = uid(name);
  const input = make ? make(id) : h('input', { id, name, ...attrs });
  const err = h('span', { class: 'err', id: `${id}-err` });
  input.setAttribute('aria-describedby', err.id);
  return h('div', { class: 'field', 'data-field': name }, h('label', { for: id }, label), input, err);
}

export function select(id, name, options, value) {
  return h('select', { id, name }, options.map(([v, t]) => h('option', { value: v, selected: v === value }, t)));
}

// An API error on a form: each field's message beside it, the rest at the top.
export function showError(form, e) {
  form.querySelectorAll('.err').forEach((s) => (s.textContent = ''));
  let general = form.querySelector('.form-error');
  if (!general) {
    general = h('p', { class: 'error form-error', role: 'alert' });
    form.prepend(general);
  }
  const rest = [];
  for (const f of e.fields || []) {
    const slot = form.querySelector(`[data-field="${CSS.escape(f.field)}"] .err`);
    if (slot) slot.textContent = f.message;
    else rest.push(f.field ? `${f.field}: ${f.message}` : f.message);
  }
  const mapped = (e.fields || []).length - rest.length;
  general.textContent = rest.length ? `${e.message} ${rest.join('; ')}`
    : mapped ? 'Check the fields marked below.' : e.message;
}

const dlg = () => document.getElementById('dialog');

// A modal dialog (native: focus stays inside, Escape closes, focus returns after).
export function openDialog(title, body) {
  const d = dlg();
  d.replaceChildren(h('h2', { id: 'dialog-title' }, title), body);
  if (!d.open) d.showModal();
  const first = d.querySelector('input,select,textarea,button');
  if (first) first.focus();
  return d;
}

export function closeDialog() {
  if (dlg().open) dlg().close();
}

// Resolves true when confirmed; `extra` goes between the text and the buttons.
export function confirmDialog(title, text, action, extra) {
  return new Promise((resolve) => {
    const d = dlg();
    const done = (v) => {
      d.removeEventListener('close', onClose);
      closeDialog();
      resolve(v);
    };
    const onClose = () => done(false);
    const body = h('div', {}, h('p', {}, text), extra || null,
      h('div', { class: 'row' },
        h('button', { type: 'button', onclick: () => done(false) }, 'Cancel'),
        h('button', { type: 'button', class: 'primary danger-confirm', onclick: () => done(true) }, action)));
    openDialog(title, body);
    d.addEventListener('close', onClose);
  });
}

// A form whose submit runs `action`; its errors appear in the form.
export function form(children, submitLabel, action, cancel = true) {
  const f = h('form', { novalidate: true }, children,
    h('div', { class: 'row' },
      cancel ? h('button', { type: 'button', onclick: closeDialog }, 'Cancel') : null,
      h('button', { type: 'submit', class: 'primary' }, submitLabel)));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btn = f.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      await action(Object.fromEntries(new FormData(f)), f);
    } catch (e) {
      showError(f, e);
    } finally {
      btn.disabled = false;
    }
  });
  return f;
}

// Previous and Next, each only when there is such a page; nothing on a single page. Focus
// stays on the pager after a click, though the button clicked may be gone from the new page.
export function pager(cursors, next, load) {
  const go = (label, cursor) => async (ev) => {
    const holder = ev.target.closest('main') || document;
    try {
      await load(cursor);
    } catch (e) {
      toast(e.message, true);
      return;
    }
    const buttons = [...holder.querySelectorAll('.pager button')];
    (buttons.find((b) => b.textContent === label) || buttons[0])?.focus();
  };
  const prev = cursors.length > 1
    ? h('button', { type: 'button', onclick: (ev) => { cursors.pop(); return go('Previous page', cursors[cursors.length - 1])(ev); } }, 'Previous page') : null;
  const more = next ? h('button', { type: 'button', onclick: (ev) => { cursors.push(next); return go('Next page', next)(ev); } }, 'Next page') : null;
  return prev || more ? h('div', { class: 'pager' }, prev, more) : '';
}
