// Placeholder entry for the board widget; replaced by the board (issue 3).
type Model = { get(name: string): unknown };

export default {
  render({ model, el }: { model: Model; el: HTMLElement }) {
    const div = document.createElement("div");
    div.className = "trackbook";
    div.textContent = String(model.get("title") ?? "trackbook");
    el.appendChild(div);
  },
};
