// ThesisApp scaffold: Vite listens on $PORT (from the app's .env through docker-compose.yml).
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

const port = Number(process.env.PORT || 5173)

export default defineConfig({
  plugins: [react()],
  server: { host: '0.0.0.0', port, strictPort: true },
  preview: { host: '0.0.0.0', port, strictPort: true },
})
