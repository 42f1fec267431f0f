/**
 * The web client's one entry point (built by scripts/build-web.mjs into dist/web/assets/app.js).
 * Each page names itself in `<body data-page>`; nothing runs inline (the CSP forbids it).
 */
import { accountPage } from './account.js';
import { connectPage } from './connect.js';
import { sharedPage } from './shared.js';

const pages: Record<string, () => Promise<void>> = {
  connect: connectPage,
  shared: sharedPage,
  account: accountPage,
};

const run = pages[document.body.dataset['page'] ?? ''];
if (run)
  run().catch(() => {
    // No details: an error object could carry request data. The page says what happened instead.
    const main = document.getElementById('main');
    const p = document.createElement('p');
    p.className = 'verdict bad';
    p.setAttribute('role', 'alert');
    p.textContent = 'Something went wrong on this page. Reload it to try again.';
    main?.prepend(p);
  });
