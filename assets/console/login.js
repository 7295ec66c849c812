// The sign-in card shown when there is no staff session; on success it hands the staff
// profile to the shell.

import { h } from '../shared/dom.js';
import { post } from '../shared/api.js';
import { t } from './strings.js';
import { busy } from './ui.js';

export function loginPage({ onLogin, langButton }) {
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const login = h('input', { name: 'login', id: 'login', autocomplete: 'username', autocapitalize: 'none', spellcheck: false, required: true });
  const password = h('input', { name: 'password', id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button.primary.wide', { type: 'submit' }, t('sign_in'));
  const showError = (text) => {
    error.textContent = text;
    error.hidden = false;
  };

  const form = h(
    'form.card.login-card',
    {
      id: 'login-form',
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        if (!login.value.trim() || !password.value) {
          showError(t('login_missing'));
          (login.value.trim() ? password : login).focus();
          return;
        }
        try {
          const result = await busy(submit, () => post('auth/login', { login: login.value.trim(), password: password.value }), t('signing_in'));
          onLogin(result.staff);
        } catch (e) {
          // 401 gets our longer hint; 429 and the rest carry the server's own words (with the wait).
          showError(e.code === 'WRONG_CREDENTIALS' ? t('wrong_password') : e.message);
          password.select();
          password.focus();
        }
      },
    },
    h('h1', {}, t('login_title')),
    h('p.muted', {}, t('login_hint')),
    h('label.field', { for: 'login' }, h('span.label', {}, t('login_name')), login),
    h('label.field', { for: 'password' }, h('span.label', {}, t('password')), password),
    error,
    submit,
  );
  setTimeout(() => login.focus());
  return h('main.login-page', {}, h('div.login-top', {}, langButton), form);
}
