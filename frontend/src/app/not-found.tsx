import type { Metadata } from "next";
import Link from "next/link";

import { NAV } from "@/components/nav";

export const metadata: Metadata = { title: "Page not found" };

/** The app's 404 (unknown paths, and pages that call `notFound()`, such as another user's watch):
 * the app's navigation and a way home, no internals. Rendered in the root layout only, so it
 * must not need the signed-in shell. */
export default function NotFound() {
  return (
    <div className="not-found-page">
      <header className="not-found-bar">
        <Link href="/" className="brand">
          <span className="brand-mark" aria-hidden="true">A</span> AdSpark
        </Link>
        <nav aria-label="Main" className="not-found-nav">
          {NAV.map((item) => (
            <Link key={item.href} href={item.href}>{item.label}</Link>
          ))}
        </nav>
      </header>
      <main id="main" className="not-found-main">
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
      </main>
    </div>
  );
}
