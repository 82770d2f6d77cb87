import { NotFoundCard } from "@/components/NotFoundCard";

/** 404 inside the app (pages that call `notFound()`, e.g. another user's watch): the shell's
 * navigation stays around it. */
export default function NotFound() {
  return (
    <div className="not-found-main">
      <NotFoundCard />
    </div>
  );
}
