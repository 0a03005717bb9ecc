// panva's oidc-provider (OpenID Certified) as an independent identity provider for the tests.
//
// Configured from the environment: OP_PORT (named in the issuer) and OP_FD (the listening
// socket the test bound on that port and handed down), OP_CLIENT_ID, OP_CLIENT_SECRET, OP_REDIRECT_URI,
// and optionally OP_INSTITUTION and OP_PASSPORT (a JSON array of GA4GH visa JWTs, returned
// from userinfo as `ga4gh_passport_v1`). Any login/password signs in; the login becomes `sub`,
// and `<login>@example.org` the email, verified unless the login starts with `unverified`.
// Serves the inherited socket (127.0.0.1 only); the test fixture stops it by PID.
import Provider from 'oidc-provider';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number(required('OP_PORT'));
const institution = process.env.OP_INSTITUTION || 'Example University';
const passport = process.env.OP_PASSPORT ? JSON.parse(process.env.OP_PASSPORT) : undefined;

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: required('OP_CLIENT_ID'),
    client_secret: required('OP_CLIENT_SECRET'),
    redirect_uris: [required('OP_REDIRECT_URI')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  // `institution` and the passport ride on the profile scope, which the service asks for.
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'institution', 'ga4gh_passport_v1'],
  },
  cookies: { keys: ['custodian-tests-only-cookie-key'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: `${id}@example.org`,
          email_verified: !id.startsWith('unverified'),
          name: `Test user ${id}`,
          institution,
          ga4gh_passport_v1: passport,
        };
      },
    };
  },
});

provider.listen({ fd: Number(required('OP_FD')) }, () => {
  console.log(`oidc-provider listening on ${provider.issuer}`);
});
