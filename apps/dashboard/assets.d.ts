/** The directory holding the built dashboard (index.html and assets/), absent before `vite build`. */
export declare const dashboardDirectory: string
