// Users (#/users), for admins: the org's users, create one (email,
// password, role), change a user's role (it applies to their tokens at
// once), delete one after a confirmation. Others are told it is for
// admins.

import { field, select, adminOnly, isAdmin } from './ops-lib.js';

const ROLES = ['admin', 'producer', 'consumer'];

export function render (root, params, ctx) {
  const { api, ui } = ctx;
  const { h, fill } = ui;
  fill (root, h ('h1', null, 'Users'));
  if (!isAdmin (ctx)) {
    root.appendChild (adminOnly ('Managing users', ctx.user));
    return { destroy () {} };
  }
  let gone = false;
  const me = ctx.user && ctx.user.email;

  const email = h ('input', { type: 'email', required: true, autocomplete: 'off', maxlength: '254' });
  const password = h ('input', { type: 'password', required: true, autocomplete: 'new-password', minlength: '8' });
  const role = select (ROLES.map (r => [r, r]), 'consumer');
  const formErr = h ('div', { 'aria-live': 'polite' });
  const createBtn = h ('button', { type: 'submit', class: 'primary' }, 'Create user');
  const form = h ('form', { class: 'panel', 'aria-labelledby': 'users-create-h', novalidate: true },
    h ('h2', { id: 'users-create-h' }, 'Create a user'),
    h ('div', { class: 'row' },
      field ('Email', email),
      field ('Password', password, 'At least 8 characters; they can change it later.'),
      field ('Role', role)),
    formErr,
    h ('div', { class: 'actions' }, createBtn));
  const listEl = h ('div');
  root.append (
    h ('p', { class: 'muted' }, 'Admins manage the org; producers publish; consumers read. A user signs in with email and password.'),
    form,
    h ('section', { 'aria-labelledby': 'users-list-h' }, h ('h2', { id: 'users-list-h' }, 'Users of your org'), listEl));

  form.addEventListener ('submit', async (e) => {
    e.preventDefault ();
    fill (formErr);
    if (!email.value.trim () || !password.value) {
      fill (formErr, ui.errorBox ({ message: 'Enter an email and a password.' }));
      (email.value.trim () ? password : email).focus ();
      return;
    }
    createBtn.disabled = true;
    try {
      const u = await api.post ('/users', { email: email.value.trim (), password: password.value, role: role.value });
      ui.toast ('Created ' + u.email + ' (' + u.role + ')', 'ok');
      email.value = password.value = '';
      await reload ();
    } catch (ex) {
      fill (formErr, ui.errorBox (ex, 'The user was not created'));
    } finally {
      createBtn.disabled = false;
    }
  });

  function draw (users) {
    fill (listEl, ui.table ([
      { label: 'Email', rowHeader: true, render: u => u.email + (u.email === me ? ' (you)' : '') },
      {
        label: 'Role',
        render: u => {
          const s = select (ROLES.map (r => [r, r]), u.role, { 'aria-label': 'Role of ' + u.email });
          s.addEventListener ('change', async () => {
            const to = s.value;
            if (u.email === me && to !== 'admin' &&
                !await ui.confirmDialog ('Give up your admin role?', 'You will no longer be able to manage users, keys or the dead-letter queue.', 'Change my role')) {
              s.value = u.role;
              return;
            }
            try {
              const r = await api.patch ('/users/' + encodeURIComponent (u.id), { role: to });
              u.role = r && r.role ? r.role : to;
              ui.toast ('The role of ' + u.email + ' is now ' + u.role, 'ok');
            } catch (ex) {
              s.value = u.role;
              ui.toast ('The role was not changed: ' + ui.errorText (ex), 'error');
            }
          });
          return s;
        }
      },
      { label: 'Created', render: u => h ('time', { datetime: u.created_at }, ui.fmtTime (u.created_at)) },
      { label: 'User id', render: u => h ('code', null, u.id) },
      {
        label: 'Actions',
        render: u => u.email === me ? h ('span', { class: 'muted small' }, 'you') : h ('button', {
          type: 'button', class: 'danger small', 'aria-label': 'Delete ' + u.email,
          'on:click': () => remove (u)
        }, 'Delete')
      }
    ], users, { label: 'Users', caption: users.length + (users.length === 1 ? ' user' : ' users'), empty: 'No users.' }));
  }

  async function remove (u) {
    const yes = await ui.confirmDialog ('Delete ' + u.email + '?',
      'They can no longer sign in, and their tokens stop working at once. This cannot be undone.', 'Delete user');
    if (!yes)
      return;
    try {
      await api.del ('/users/' + encodeURIComponent (u.id));
      ui.toast ('Deleted ' + u.email, 'ok');
      await reload ();
      const r = listEl.querySelector ('[role="region"]');
      if (r)
        r.focus ();
    } catch (ex) {
      ui.toast ('Not deleted: ' + ui.errorText (ex), 'error');
    }
  }

  async function reload () {
    try {
      const r = await api.get ('/users');
      if (!gone)
        draw ((r && r.items) || []);
    } catch (ex) {
      if (gone)
        return;
      if (ex.status === 403)
        fill (root, h ('h1', null, 'Users'), adminOnly ('Managing users', ctx.user));
      else
        fill (listEl, ui.errorBox (ex, 'The users could not be listed'));
    }
  }

  fill (listEl, h ('p', { class: 'muted' }, 'Loading…'));
  reload ();
  return { destroy () { gone = true; } };
}
