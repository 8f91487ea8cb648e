/** The two HTML pages of /admin: the login form and the dashboard shell (the bundle fills it from /admin/api/*). */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const HEAD = `<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/assets/dashboard.css">`;

/** Strict CSP: everything from this server, nothing inline, no framing. */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function loginPage(message: string | null): string {
  const error = message ? `<p class="login-error" role="alert">${escapeHtml(message)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
${HEAD}
<title>moe-router admin · sign in</title>
</head>
<body class="login">
<main class="login-box">
  <h1>moe-router admin</h1>
  <form method="post" action="/admin/login">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Sign in</button>
  </form>
  ${error}
  <p class="hint">The token is the <code>ADMIN_TOKEN</code> setting of the bot.</p>
</main>
</body>
</html>`;
}

export function dashboardPage(csrfToken: string): string {
  return `<!doctype html>
<html lang="en">
<head>
${HEAD}
<meta name="csrf-token" content="${escapeHtml(csrfToken)}">
<title>moe-router admin</title>
<script type="module" src="/admin/assets/dashboard.js"></script>
</head>
<body>
<header class="top">
  <h1>moe-router</h1>
  <p class="gate">gate <strong id="gate-version">…</strong></p>
  <div class="controls">
    <label>Range
      <select id="range">
        <option value="24h">last 24 hours</option>
        <option value="7d" selected>last 7 days</option>
        <option value="30d">last 30 days</option>
        <option value="90d">last 90 days</option>
      </select>
    </label>
    <label>Buckets
      <select id="bucket">
        <option value="hour">hour</option>
        <option value="day" selected>day</option>
      </select>
    </label>
    <button type="button" id="refresh">Refresh</button>
  </div>
  <form method="post" action="/admin/logout" class="logout">
    <input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">
    <button type="submit">Log out</button>
  </form>
</header>
<main>
  <p id="status" class="status" role="status" aria-live="polite"></p>
  <section aria-labelledby="summary-h" class="panel wide">
    <h2 id="summary-h">Summary</h2>
    <dl id="summary" class="cards"></dl>
  </section>
  <section aria-labelledby="q-h" class="panel wide">
    <h2 id="q-h">Questions per expert</h2>
    <figure>
      <div class="chart tall"><canvas id="chart-questions" role="img" aria-label="Questions per expert over time"></canvas></div>
      <figcaption>Questions answered by each expert per bucket (stacked).</figcaption>
    </figure>
  </section>
  <section aria-labelledby="f-h" class="panel">
    <h2 id="f-h">Fallback rate</h2>
    <figure>
      <div class="chart"><canvas id="chart-fallback" role="img" aria-label="Fallback rate over time"></canvas></div>
      <figcaption>Share of questions answered by the fallback expert per bucket.</figcaption>
    </figure>
  </section>
  <section aria-labelledby="u-h" class="panel">
    <h2 id="u-h">👍 rate per expert</h2>
    <figure>
      <div class="chart"><canvas id="chart-upvotes" role="img" aria-label="Upvote rate per expert and votes over time"></canvas></div>
      <figcaption>Lines: share of 👍 among the votes on each expert's answers; bars: votes cast per bucket.</figcaption>
    </figure>
  </section>
  <section aria-labelledby="c-h" class="panel">
    <h2 id="c-h">Confusion: gate's choice vs. what users said</h2>
    <div class="table-wrap"><table id="confusion" class="heat"><caption id="confusion-caption"></caption></table></div>
  </section>
  <section aria-labelledby="x-h" class="panel">
    <h2 id="x-h">Experts</h2>
    <div class="table-wrap"><table id="experts"></table></div>
  </section>
  <section aria-labelledby="g-h" class="panel wide">
    <h2 id="g-h">Gate versions</h2>
    <div class="retrain">
      <button type="button" id="retrain">Retrain now</button>
      <progress id="retrain-progress" hidden aria-label="Retraining"></progress>
      <p id="retrain-status" role="status" aria-live="polite"></p>
    </div>
    <div class="table-wrap"><table id="gates"></table></div>
  </section>
  <section aria-labelledby="d-h" class="panel wide">
    <h2 id="d-h">Recent decisions</h2>
    <div class="filters">
      <label>Expert <select id="filter-expert"><option value="">any</option></select></label>
      <label>Vote
        <select id="filter-vote">
          <option value="any">any</option><option value="up">👍</option><option value="down">👎</option><option value="none">no vote</option>
        </select>
      </label>
      <label>Fallback
        <select id="filter-fallback">
          <option value="">any</option><option value="true">fallback</option><option value="false">no fallback</option>
        </select>
      </label>
    </div>
    <div class="table-wrap"><table id="decisions"></table></div>
  </section>
</main>
</body>
</html>`;
}
