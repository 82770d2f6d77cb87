import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import { Shell } from "@/components/Shell";
import { TOKEN_COOKIE } from "@/lib/server";

/** Every page of the app needs a signed-in user; the token itself stays in the httpOnly cookie. */
export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const store = await cookies();
  if (!store.get(TOKEN_COOKIE)) redirect("/login");
  return <Shell>{children}</Shell>;
}
