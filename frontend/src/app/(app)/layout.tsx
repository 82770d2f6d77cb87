import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";

import { Shell } from "@/components/Shell";
import { loginPath } from "@/lib/nextPath";
import { TOKEN_COOKIE } from "@/lib/server";

/** Every page of the app needs a signed-in user; the token itself stays in the httpOnly cookie.
 * A signed-out visitor goes to the sign-in page with `?next=` set to the page they asked for
 * (`x-adspark-path`, set by src/proxy.ts), and comes back to it after signing in. */
export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const store = await cookies();
  if (!store.get(TOKEN_COOKIE)) redirect(loginPath((await headers()).get("x-adspark-path")));
  return <Shell>{children}</Shell>;
}
