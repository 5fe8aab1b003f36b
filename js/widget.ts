// The board's entry: the AFM module anywidget loads (default export), and `mountStatic` for pages that
// embed the board without a kernel (src/trackbook/board/html.py).
import { initialize, render } from "./afm";

export { mountStatic } from "./host";
export default { initialize, render };
