"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useState } from "react";

import { api, type FieldErrors } from "@/lib/api";
import { errorsOf, formLevelErrors, mergeErrors } from "@/lib/formErrors";
import { safePath } from "@/lib/nextPath";

import { Field, FormErrors } from "./ui";

/** Where to go after signing in: `?next=` when it is a path on this site, else the dashboard. */
export function safeNext(search: string): string {
  return safePath(new URLSearchParams(search).get("next"));
}

type Mode = "login" | "register";

/** What the browser can check before asking Django (the same rules as accounts.serializers:
 * username 3-150 of letters, digits and @/./+/-/_; a valid e-mail when given; a password of at
 * least 8 characters that is not only digits). Django's answer is merged with these, so every
 * problem shows in one round. */
export function checkAuthForm(mode: Mode, values: Record<string, string>): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  if (!values.username) add("username", "Enter a username.");
  else if (mode === "register" && !/^[\w.@+-]{3,150}$/.test(values.username))
    add("username", "3-150 characters: letters, digits and @/./+/-/_ only.");
  if (mode === "register" && values.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email))
    add("email", "Enter a valid e-mail address.");
  if (!values.password) add("password", "Enter a password.");
  else if (mode === "register") {
    if (values.password.length < 8) add("password", "This password is too short. It must contain at least 8 characters.");
    if (/^\d+$/.test(values.password)) add("password", "This password is entirely numeric.");
  }
  return errors;
}

export function AuthForm({ mode }: { mode: Mode }) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const params = useSearchParams();
  const fields = mode === "register" ? ["username", "email", "password"] : ["username", "password"];

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = Object.fromEntries(fields.map((f) => [f, String(form.get(f) ?? "")]));
    const local = checkAuthForm(mode, body);
    setBusy(true);
    setErrors({});
    if (mode === "login" && Object.keys(local).length) {
      // Nothing to ask Django: it would only repeat "This field may not be blank".
      setErrors(local);
      setBusy(false);
      return;
    }
    try {
      await api(mode === "login" ? "/auth/login" : "/auth/register", { method: "POST", body });
      window.location.assign(safePath(params.get("next")));
    } catch (err) {
      setErrors(mergeErrors([local, errorsOf(err)]));
      setBusy(false);
    }
  }

  const isLogin = mode === "login";
  const next = safePath(params.get("next"));
  const otherHref = `${isLogin ? "/register" : "/login"}${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}`;
  return (
    <main id="main" className="auth-page">
      <div className="card auth-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">A</span> AdSpark
        </div>
        <h1>{isLogin ? "Sign in" : "Create your account"}</h1>
        <p className="muted">
          {isLogin ? "Competitors' ads, watches and variants in one place." : "It takes ten seconds. No credit card."}
        </p>
        <FormErrors errors={formLevelErrors(errors, fields)} />
        <form className="form" onSubmit={submit} noValidate aria-label={isLogin ? "Sign in" : "Create account"}>
          <Field label="Username" name="username" errors={errors.username}>
            {(p) => <input {...p} type="text" autoComplete="username" required autoFocus />}
          </Field>
          {!isLogin ? (
            <Field label="Email (optional)" name="email" errors={errors.email} hint="Watch alerts are sent here.">
              {(p) => <input {...p} type="email" autoComplete="email" />}
            </Field>
          ) : null}
          <Field label="Password" name="password" errors={errors.password} hint={isLogin ? undefined : "At least 8 characters, not too common."}>
            {(p) => <input {...p} type="password" autoComplete={isLogin ? "current-password" : "new-password"} required />}
          </Field>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Please wait…" : isLogin ? "Sign in" : "Create account"}
          </button>
        </form>
        <p className="small muted" style={{ marginTop: "1rem", marginBottom: 0 }}>
          {isLogin ? (
            <>
              New to AdSpark? <Link href={otherHref}>Create an account</Link>
            </>
          ) : (
            <>
              Already have an account? <Link href={otherHref}>Sign in</Link>
            </>
          )}
        </p>
      </div>
    </main>
  );
}
