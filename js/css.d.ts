// esbuild bundles .css imports as text (--loader:.css=text); the board injects it in a <style>.
declare module "*.css" {
  const text: string;
  export default text;
}
