/** The app's sections, in the order the sidebar (Shell) and the 404 page list them. */
export const NAV: Array<{ href: string; label: string; icon: string }> = [
  { href: "/", label: "Dashboard", icon: "◎" },
  { href: "/search", label: "Search", icon: "⌕" },
  { href: "/creatives", label: "Creatives", icon: "▦" },
  { href: "/advertisers", label: "Advertisers", icon: "◈" },
  { href: "/boards", label: "Boards", icon: "❒" },
  { href: "/fetch", label: "Fetch now", icon: "⇣" },
  { href: "/watches", label: "Watches", icon: "◉" },
  { href: "/variants", label: "Variants", icon: "✦" },
  { href: "/operations", label: "Operations", icon: "⚙" },
];
