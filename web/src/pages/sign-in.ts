import { cognitoSignIn, localSchools, localSignIn, ROLE_LABELS, type AppConfig, type Role } from '../auth.js';
import { errorSummary, h, notice, replace } from '../dom.js';

/** The local sign-in page: one button per role; "School" then asks which school, from the registry. */
export async function signInPage(ctx: {
  config: AppConfig;
  query: URLSearchParams;
  returnTo: string;
}): Promise<{ title: string; body: Node[] }> {
  const cognito = ctx.config.auth === 'cognito' ? ctx.config.cognito : undefined;
  if (cognito) {
    // In AWS: managed login (after signing out, or when it is offered again).
    return {
      title: 'Sign in',
      body: [
        ...(ctx.query.get('signed-out') ? [notice('You have signed out.', 'success')] : []),
        h('h1', { class: 'govuk-heading-l' }, 'Sign in to Attendance Hub'),
        h(
          'p',
          { class: 'govuk-body' },
          'Sign in with your account. You will be asked for the code from your authenticator app.',
        ),
        h(
          'button',
          { type: 'button', class: 'govuk-button', onclick: () => void cognitoSignIn(cognito, '#/') },
          'Sign in',
        ),
      ],
    };
  }
  const status = h('div');
  const schoolForm = h('div');
  const go = async (role: Role, urn?: string) => {
    try {
      await localSignIn(role, urn);
      location.hash = ctx.returnTo.startsWith('#/') && !ctx.returnTo.startsWith('#/sign-in') ? ctx.returnTo : '#/';
    } catch (err) {
      replace(status, errorSummary('There is a problem', [{ text: (err as Error).message }]));
      status.querySelector<HTMLElement>('.govuk-error-summary')?.focus();
    }
  };
  const showSchools = async () => {
    const schools = (await localSchools()).sort((a, b) => (a.name ?? a.urn).localeCompare(b.name ?? b.urn));
    if (!schools.length) {
      replace(
        schoolForm,
        h(
          'p',
          { class: 'govuk-body' },
          'The registry holds no schools yet. Sign in as the Administrator and upload the GIAS registry first.',
        ),
      );
      return;
    }
    const select = h(
      'select',
      { class: 'govuk-select', id: 'school-urn', name: 'urn' },
      schools.map((s) => h('option', { value: s.urn }, `${s.name ?? 'Unnamed school'} (URN ${s.urn})`)),
    );
    replace(
      schoolForm,
      h(
        'form',
        {
          class: 'app-school-form',
          onsubmit: (e: Event) => {
            e.preventDefault();
            void go('school', select.value);
          },
        },
        h(
          'div',
          { class: 'govuk-form-group' },
          h('label', { class: 'govuk-label govuk-label--m', for: 'school-urn' }, 'Which school?'),
          select,
        ),
        h('button', { type: 'submit', class: 'govuk-button' }, 'Sign in as this school'),
      ),
    );
    select.focus();
  };
  const button = (role: Role) =>
    h(
      'button',
      {
        type: 'button',
        class: `govuk-button${role === 'la_officer' ? '' : ' govuk-button--secondary'}`,
        onclick: () => (role === 'school' ? void showSchools() : void go(role)),
      },
      ROLE_LABELS[role],
    );
  const body: Node[] = [
    ...(ctx.query.get('signed-out') ? [notice('You have signed out.', 'success')] : []),
    ...(ctx.query.get('expired') ? [notice('Your session has ended. Sign in again.')] : []),
    status,
    h('h1', { class: 'govuk-heading-l' }, 'Sign in to Attendance Hub'),
    h(
      'p',
      { class: 'govuk-body' },
      'This is the service running on this computer. Choose who to sign in as; the local service issues a token for that role, as the LA’s own sign-in does when deployed.',
    ),
    h(
      'div',
      { class: 'govuk-button-group app-roles' },
      (['la_officer', 'vsh', 'school', 'admin'] as Role[]).map(button),
    ),
    schoolForm,
  ];
  return { title: 'Sign in', body };
}
