"use client";

import Link from "next/link";
import { useState } from "react";

import { api, ApiError, type FieldErrors } from "@/lib/api";

import { Field, FormErrors } from "./ui";

/** Where to go after signing in: `?next=` when it is a path on this site, else the dashboard. */
export function safeNext(search: string): string {
  const next = new URLSearchParams(search).get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function AuthForm({ mode }: { mode: "login" | "register" }) {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formErrors, setFormErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const fields = mode === "register" ? ["username", "email", "password"] : ["username", "password"];

  async function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = Object.fromEntries(fields.map((f) => [f, String(form.get(f) ?? "")]));
    setBusy(true);
    setErrors({});
    setFormErrors([]);
    try {
      await api(mode === "login" ? "/auth/login" : "/auth/register", { method: "POST", body });
      window.location.assign(safeNext(window.location.search));
    } catch (err) {
      const apiError = err as ApiError;
      setErrors(apiError.fieldErrors ?? {});
      setFormErrors(apiError.formErrors ? apiError.formErrors(fields) : [String(err)]);
      setBusy(false);
    }
  }

  const isLogin = mode === "login";
  return (
    <div className="auth-page">
      <div className="card auth-card">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">A</span> AdSpark
        </div>
        <h1>{isLogin ? "Sign in" : "Create your account"}</h1>
        <p className="muted">
          {isLogin ? "Competitors' ads, watches and variants in one place." : "It takes ten seconds. No credit card."}
        </p>
        <FormErrors errors={Object.keys(errors).some((k) => fields.includes(k)) ? formErrors.filter((e) => e !== "Please correct the highlighted fields.") : formErrors} />
        <form className="form" onSubmit={submit} noValidate>
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
              New to AdSpark? <Link href="/register">Create an account</Link>
            </>
          ) : (
            <>
              Already have an account? <Link href="/login">Sign in</Link>
            </>
          )}
        </p>
      </div>
    </div>
  );
}
