import Link from "next/link";

/** The body of the 404 page: what happened in plain words and the ways on (no internals). */
export function NotFoundCard() {
  return (
    <div className="card not-found-card" data-testid="not-found">
      <p className="not-found-code" aria-hidden="true">404</p>
      <h1>Page not found</h1>
      <p className="muted">
        This page does not exist, or it belongs to another account. Check the address, or go back to where you were.
      </p>
      <div className="row" style={{ justifyContent: "center" }}>
        <Link className="button primary" href="/">Go to the dashboard</Link>
        <Link className="button" href="/search">Search AdSpark</Link>
      </div>
    </div>
  );
}
