"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState } from "react";

import type { Me } from "@/api/types";
import { api } from "@/lib/api";
import { useApi } from "@/lib/useApi";

import { NAV } from "./nav";

export { NAV };

export function isCurrent(pathname: string, href: string): boolean {
  return href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
}

export function Shell({ children }: { children: React.ReactNode }) {
  const pathname = usePathname() ?? "/";
  const [open, setOpen] = useState(false);
  const { data: me } = useApi<Me>("/api/auth/me/");

  async function signOut() {
    await api("/auth/logout", { method: "POST" }).catch(() => null);
    // A full page load on purpose: it drops every client-side cache of the old session.
    // eslint-disable-next-line @next/next/no-location-assign-relative-destination
    window.location.assign("/login");
  }

  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to content</a>
      <aside className={`sidebar${open ? " open" : ""}`}>
        <div className="sidebar-top">
          <Link href="/" className="brand">
            <span className="brand-mark" aria-hidden="true">A</span> AdSpark
          </Link>
          <button
            type="button"
            className="menu-toggle"
            aria-expanded={open}
            aria-controls="main-nav"
            onClick={() => setOpen((v) => !v)}
          >
            Menu
          </button>
        </div>
        <nav id="main-nav" className="nav" aria-label="Main">
          {NAV.map((item) => (
            <Link
              key={item.href}
              href={item.href}
              aria-current={isCurrent(pathname, item.href) ? "page" : undefined}
              onClick={() => setOpen(false)}
            >
              <span className="nav-icon" aria-hidden="true">{item.icon}</span>
              {item.label}
            </Link>
          ))}
        </nav>
        <div className="sidebar-footer">
          {me ? (
            <span>
              Signed in as <strong data-testid="current-user">{me.username}</strong>
            </span>
          ) : null}
          <button type="button" onClick={signOut}>Sign out</button>
        </div>
      </aside>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
