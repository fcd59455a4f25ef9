// What a JavaScript module imports, read from its text: for the tests that check or follow the
// package's import graph (nobuiltins: nothing outside the package; workerd: every module listed).

/** The text without comments (good enough for these files: no comment markers inside strings
 * except URLs, which the scan does not look at). */
export function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** The module specifiers in `text` (comments stripped): `static` from import/export ... from and
 * bare imports, `dynamic` from import('literal'), and whether any import() has a computed
 * specifier (which no scan can follow). */
export function moduleSpecifiers(text) {
  const src = stripComments(text);
  return {
    static: [
      ...src.matchAll(/\b(?:import|export)\s[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]/g),
      ...src.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
    ].map((m) => m[1]),
    dynamic: [...src.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
    computedDynamic: /\bimport\s*\(\s*[^'"\s)]/.test(src),
  };
}
