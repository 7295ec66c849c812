// Small building blocks every console page uses: toasts, busy buttons, labelled fields with
// their inline error, switches, chips and modal dialogs.

import { h, mount } from '../shared/dom.js';
import { t, errorText } from './strings.js';

let toastBox;

/** A short message at the bottom right; kind is 'success' or 'error'. */
export function toast(message, kind = 'success') {
  if (!toastBox || !toastBox.isConnected) {
    toastBox = h('div.toasts', { role: 'status', 'aria-live': 'polite' });
    document.body.append(toastBox);
  }
  // Inside an open modal dialog only the top layer is visible, so follow it there.
  const openDialog = [...document.querySelectorAll('dialog[open]')].pop();
  const host = openDialog || document.body;
  if (toastBox.parentNode !== host) host.append(toastBox);
  const el = h(`div.toast.${kind}`, {}, message);
  toastBox.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
  return el;
}

/**
 * Runs `work` while `button` shows it is busy (at once, before the server answers); the button
 * gets its label back afterwards. Errors are passed on to the caller.
 */
export async function busy(button, work, busyLabel) {
  if (!button) return work();
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (busyLabel) button.textContent = busyLabel;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (busyLabel) button.textContent = label;
  }
}

/** A labelled control with room for its error: errors is {path: text-or-code}. */
export function field(label, control, { path, errors = {}, hint, className = '' } = {}) {
  const error = path && errors[path];
  if (error) {
    control.setAttribute('aria-invalid', 'true');
    shown?.add(path);
  }
  return h(
    `label.field${className ? '.' + className : ''}${error ? '.invalid' : ''}`,
    { dataset: path ? { field: path } : {} },
    h('span.label', {}, label),
    control,
    hint && !error ? h('span.hint', {}, hint) : null,
    error ? h('span.error', { role: 'alert' }, errorText(error)) : null,
  );
}

/** The error of a path that has no input of its own (a whole list, say). */
export function fieldError(path, errors) {
  const error = errors[path];
  if (!error) return null;
  shown?.add(path);
  return h('p.error', { role: 'alert', dataset: { field: path } }, errorText(error));
}

// Paths whose errors were placed next to an input during the current render.
let shown = null;
export function trackShownErrors() {
  shown = new Set();
  return () => {
    const result = shown;
    shown = null;
    return result;
  };
}

export const input = (attrs = {}) => h('input', { type: 'text', autocomplete: 'off', ...attrs });

/** An on/off switch (a checkbox that looks like one), labelled for screen readers. */
export function toggle({ checked, onchange, label, name, disabled }) {
  const box = h('input', { type: 'checkbox', role: 'switch', checked: !!checked, name, disabled: !!disabled, 'aria-label': label, onchange });
  return h('label.switch', { onclick: (e) => e.stopPropagation() }, box, h('span.track', { 'aria-hidden': 'true' }), h('span.switch-label', {}, label));
}

/** Chips with removal, an input to add, and suggestions not yet chosen. */
export function chipsInput({ values, suggestions = [], onchange, name, placeholder }) {
  const wrap = h('div.chips');
  const render = () => {
    const entry = input({
      name,
      placeholder: placeholder || t('tag_placeholder'),
      enterkeyhint: 'done',
      onkeydown: (e) => {
        if ((e.key === 'Enter' || e.key === ',' || e.key === '，') && !e.isComposing) {
          e.preventDefault();
          add(entry.value);
        }
      },
      onblur: () => entry.value.trim() && add(entry.value),
    });
    const add = (value) => {
      const v = value.trim();
      if (v && !values.includes(v)) values.push(v);
      onchange?.(values);
      render();
      wrap.querySelector('input')?.focus();
    };
    mount(
      wrap,
      values.map((v, i) =>
        h('span.chip', {}, v, h('button.chip-x', { type: 'button', 'aria-label': `${t('remove')} ${v}`, onclick: () => { values.splice(i, 1); onchange?.(values); render(); } }, '×')),
      ),
      entry,
      suggestions
        .filter((s) => !values.includes(s))
        .map((s) => h('button.chip.suggest', { type: 'button', onclick: () => add(s) }, '+ ' + s)),
    );
  };
  render();
  return wrap;
}

/** A modal dialog; returns {dialog, close}. `onclose` runs however it is closed. */
export function modal(title, body, { className = '', onclose, actions = [] } = {}) {
  const dialog = h(
    `dialog.modal${className ? '.' + className : ''}`,
    { 'aria-label': title },
    h('header.modal-head', {}, h('h2', {}, title), h('button.icon', { type: 'button', 'aria-label': t('close'), onclick: () => close() }, '×')),
    h('div.modal-body', {}, body),
    actions.length ? h('footer.modal-foot', {}, actions) : null,
  );
  const close = () => {
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener('close', () => {
    dialog.remove();
    onclose?.();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/** Asks before something that cannot be undone; resolves true or false. */
export function confirmAction(message, confirmLabel = t('delete'), title = t('delete'), dismissLabel = t('cancel')) {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h('button.danger', { type: 'button', onclick: () => { answer = true; close(); } }, confirmLabel);
    const { close } = modal(title, h('p', {}, message), {
      className: 'confirm',
      onclose: () => resolve(answer),
      actions: [h('button.secondary', { type: 'button', onclick: () => close() }, dismissLabel), yes],
    });
    yes.focus();
  });
}

/** A page-level message: loading, an error with a retry, or an empty state. */
export function notice(text, { retry, kind = 'info' } = {}) {
  return h(`div.notice.${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, h('p', {}, text), retry ? h('button.secondary', { type: 'button', onclick: retry }, t('retry')) : null);
}

/** The words for an API failure, with what to do next for the common cases. */
export function explain(error) {
  if (error?.status === 403) return t('forbidden');
  if (error?.status === 401) return t('session_expired');
  return error?.message || String(error);
}
