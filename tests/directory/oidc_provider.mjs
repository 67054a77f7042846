// A real OpenID Connect provider for the tests (npm's oidc-provider, a devDependency in package.json), on
// loopback. Its own login page (the library's development interactions: a login form, then a consent form)
// signs in the accounts given in the config file; their claims include groups and a department.
//
//   node tests/directory/oidc_provider.mjs CONFIG.json
//
// CONFIG: {"port": N, "issuer": "http://127.0.0.1:N", "clients": [...], "accounts": {"login": {claims}}}.
// Prints "ready" once it listens; ends when its standard input closes (its test ended) or on SIGTERM.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts;

const provider = new Provider(config.issuer, {
  clients: config.clients,
  pkce: { required: () => true },  // every authorization request must carry an S256 challenge
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'department'],
    email: ['email'],
    groups: ['groups'],
  },
  cookies: { keys: ['sharehub-tests-only'] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});
provider.on('server_error', (ctx, error) => console.error('server_error', error));

const server = provider.listen(config.port, '127.0.0.1', () => console.log('ready'));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
