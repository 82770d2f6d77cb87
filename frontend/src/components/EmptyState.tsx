/** An empty or not-found state whose title is an h2 (pages put it right under their h1, so the
 * heading order stays valid for screen readers and axe-core). */
export function EmptyState({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="empty">
      <h2 style={{ fontSize: "1.1rem" }}>{title}</h2>
      {children}
    </div>
  );
}
