// The kitchen screens' sign-in (the sold-out board and the kitchen display share it): a staff
// login form, and the choice of store from the session's stores.

import { h } from '../shared/dom.js';
import { get, post } from '../shared/api.js';
import { translator } from '../shared/i18n.js';

const t = translator({
  title: ['后厨登录', 'Kitchen sign-in'],
  sub: ['使用门店员工账号登录', 'Sign in with your staff account'],
  login: ['账号', 'Login'],
  password: ['密码', 'Password'],
  signIn: ['登录', 'Sign in'],
  signingIn: ['正在登录…', 'Signing in…'],
});

/** The login form; `onSignedIn(me)` gets the session's staff profile (`auth/me`). */
export function loginForm({ message = '', onSignedIn }) {
  const error = h('p.error', { role: 'alert' }, message);
  const button = h('button.primary', { type: 'submit' }, t('signIn'));
  const form = h('form', {
    id: 'login-form',
    onsubmit: async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      button.disabled = true;
      button.textContent = t('signingIn');
      error.textContent = '';
      try {
        await post('auth/login', { login: String(data.get('login')).trim(), password: String(data.get('password')) });
        onSignedIn(await get('auth/me'));
      } catch (failure) {
        error.textContent = failure.message;
        button.disabled = false;
        button.textContent = t('signIn');
      }
    },
  },
  h('h1', {}, t('title')),
  h('p.sub', {}, t('sub')),
  h('label', {}, t('login'), h('input', { name: 'login', autocomplete: 'username', required: true, autocapitalize: 'off' })),
  h('label', {}, t('password'), h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
  error,
  button);
  setTimeout(() => form.querySelector('input').focus());
  return form;
}

/** The store named by `?store=`, or the only one when none is named; null to ask. */
export function chosenStore(me) {
  const wanted = new URLSearchParams(location.search).get('store');
  const stores = me.stores || [];
  return stores.find((s) => s.id === wanted) || (!wanted && stores.length === 1 ? stores[0] : null);
}
