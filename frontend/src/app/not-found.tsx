import type { Metadata } from "next";
import Link from "next/link";

import { NAV } from "@/components/nav";
import { NotFoundCard } from "@/components/NotFoundCard";

export const metadata: Metadata = { title: "Page not found" };

/** The 404 of unknown paths: rendered in the root layout only (signed in or not), so it brings
 * the app's navigation itself. Pages inside the app that call `notFound()` (another user's
 * watch) get `(app)/not-found.tsx` instead, inside the app's shell. */
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
        <NotFoundCard />
      </main>
    </div>
  );
}
